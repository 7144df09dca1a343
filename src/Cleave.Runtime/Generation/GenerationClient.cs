using Cleave.Runtime.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The gRPC transport to a generation server (cleartext HTTP/2). One client serves many concurrent sessions. Given
/// several addresses (the silos of a cluster, any of which serves any session), a call whose connection fails is
/// sent again, unchanged, to the next address: an open is idempotent in a cluster, and a step that already ran is
/// answered from the session's last response, so nothing runs twice.
/// </summary>
public sealed class GenerationClient : IGenerationTransport, IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly GenerationGrpc.GenerationClient[] _clients;
    private int _current;
    private long _failovers;

    public GenerationClient(Uri address) : this([address]) { }

    /// <param name="addresses">Servers that serve the same sessions (a cluster's front ends); calls go to the first until it fails.</param>
    /// <param name="first">Index of the address to start with (spreads clients over a cluster).</param>
    public GenerationClient(IReadOnlyList<Uri> addresses, int first = 0)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Count == 0) throw new ArgumentException("give at least one server address", nameof(addresses));
        _channels = new GrpcChannel[addresses.Count];
        _clients = new GenerationGrpc.GenerationClient[addresses.Count];
        for (int i = 0; i < addresses.Count; i++)
        {
            _channels[i] = GrpcChannel.ForAddress(addresses[i], new GrpcChannelOptions { MaxReceiveMessageSize = 16 << 20, MaxSendMessageSize = 16 << 20 });
            _clients[i] = new GenerationGrpc.GenerationClient(_channels[i]);
        }
        _current = (int)((uint)first % (uint)addresses.Count);
    }

    /// <summary>Calls sent again to another address because a connection failed.</summary>
    public long Failovers => Interlocked.Read(ref _failovers);

    public Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client => client.OpenAsync(request, cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    public Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client => client.StepAsync(request, cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    public Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client => client.CloseAsync(request, cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    private async Task<T> CallAsync<T>(Func<GenerationGrpc.GenerationClient, Task<T>> call, CancellationToken cancellationToken)
    {
        // Each address gets two tries: a connection that broke a moment ago is re-dialled on the second.
        for (int tried = 1; ; tried++)
        {
            int index = Volatile.Read(ref _current);
            try
            {
                return await call(_clients[index]).ConfigureAwait(false);
            }
            catch (RpcException e) when (IsConnectionFailure(e, cancellationToken) && tried < 2 * _clients.Length)
            {
                Interlocked.CompareExchange(ref _current, (index + 1) % _clients.Length, index);
                Interlocked.Increment(ref _failovers);
            }
        }
    }

    /// <summary>The server went away (not a typed answer: generation errors are in-band, never a gRPC status).</summary>
    private static bool IsConnectionFailure(RpcException e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled or StatusCode.Unknown;

    public void Dispose()
    {
        foreach (var channel in _channels) channel.Dispose();
    }
}
