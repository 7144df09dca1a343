using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The gRPC transport to a generation server (cleartext HTTP/2, or TLS for an https address). One client serves many
/// concurrent sessions. Given several addresses (the silos of a cluster, any of which serves any session), a call
/// whose connection fails is sent again, unchanged, to the next address: an open is idempotent in a cluster, and a
/// step that already ran is answered from the session's last response, so nothing runs twice.
/// </summary>
public sealed class GenerationClient : IGenerationTransport, IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly GenerationGrpc.GenerationClient[] _clients;
    private readonly Metadata? _headers;
    private int _current;
    private long _failovers;

    public GenerationClient(Uri address) : this([address]) { }

    /// <summary>
    /// A client presenting <paramref name="credentials"/> (API key, client certificate); over https, a server
    /// certificate that is not trusted is accepted only with <paramref name="acceptAnyServerCertificate"/> (development).
    /// </summary>
    public GenerationClient(Uri address, ClientCredentials? credentials, bool acceptAnyServerCertificate = false)
        : this([address], credentials, acceptAnyServerCertificate) { }

    /// <param name="addresses">Servers that serve the same sessions (a cluster's front ends); calls go to one until it fails.</param>
    /// <param name="credentials">What to present to every server (API key, client certificate); none when null.</param>
    /// <param name="acceptAnyServerCertificate">Over https: accept an untrusted server certificate (development only).</param>
    /// <param name="first">Index of the address to start with (spreads clients over a cluster).</param>
    public GenerationClient(IReadOnlyList<Uri> addresses, ClientCredentials? credentials = null, bool acceptAnyServerCertificate = false, int first = 0)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Count == 0) throw new ArgumentException("give at least one server address", nameof(addresses));
        credentials ??= ClientCredentials.None;
        _headers = credentials.Headers();
        _channels = new GrpcChannel[addresses.Count];
        _clients = new GenerationGrpc.GenerationClient[addresses.Count];
        for (int i = 0; i < addresses.Count; i++)
        {
            var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
            if (acceptAnyServerCertificate) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            credentials.ApplyTo(handler);
            _channels[i] = GrpcChannel.ForAddress(addresses[i], new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = 16 << 20, MaxSendMessageSize = 16 << 20 });
            _clients[i] = new GenerationGrpc.GenerationClient(_channels[i]);
        }
        _current = (int)((uint)first % (uint)addresses.Count);
    }

    /// <summary>Calls sent again to another address because a connection failed.</summary>
    public long Failovers => Interlocked.Read(ref _failovers);

    public Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client => client.OpenAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    public Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client => client.StepAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    public Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client => client.CloseAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

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

    /// <summary>The server went away (not a typed answer: generation errors are in-band; UNAUTHENTICATED is not retried).</summary>
    private static bool IsConnectionFailure(RpcException e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled or StatusCode.Unknown;

    public void Dispose()
    {
        foreach (var channel in _channels) channel.Dispose();
    }
}
