using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The gRPC transport to a generation server (cleartext HTTP/2, or TLS for an https address). One client serves many
/// concurrent sessions. Every call has a deadline; a call that cannot reach the server or breaks throws
/// <see cref="GenerationUnavailableException"/> (the server's typed errors come back in the responses). Given several
/// addresses (the silos of a cluster, any of which serves any session), a call whose connection fails is first sent
/// again, unchanged, to each other address: an open is idempotent in a cluster, and a step that already ran is
/// answered from the session's last response, so nothing runs twice. Only when every address failed is it unavailable.
/// </summary>
public sealed class GenerationClient : IGenerationTransport, IDisposable
{
    private readonly Uri[] _addresses;
    private readonly GrpcChannel[] _channels;
    private readonly GenerationGrpc.GenerationClient[] _clients;
    private readonly TimeSpan _callTimeout;
    private readonly Metadata? _headers;
    private int _current;
    private long _failovers;

    public GenerationClient(Uri address) : this(address, null) { }

    /// <summary>
    /// A client presenting <paramref name="credentials"/> (API key, client certificate); over https, a server
    /// certificate that is not trusted is accepted only with <paramref name="acceptAnyServerCertificate"/> (development).
    /// </summary>
    /// <param name="callTimeout">How long one call may take (default 30 s): a server that stopped answering is then unavailable.</param>
    public GenerationClient(Uri address, ClientCredentials? credentials, bool acceptAnyServerCertificate = false, TimeSpan? callTimeout = null)
        : this([address ?? throw new ArgumentNullException(nameof(address))], credentials, acceptAnyServerCertificate, callTimeout) { }

    /// <param name="addresses">Servers that serve the same sessions (a cluster's front ends); calls go to one until it fails.</param>
    /// <param name="credentials">What to present to every server (API key, client certificate); none when null.</param>
    /// <param name="acceptAnyServerCertificate">Over https: accept an untrusted server certificate (development only).</param>
    /// <param name="callTimeout">How long one call may take on one address (default 30 s).</param>
    /// <param name="first">Index of the address to start with (spreads clients over a cluster).</param>
    public GenerationClient(IReadOnlyList<Uri> addresses, ClientCredentials? credentials = null, bool acceptAnyServerCertificate = false,
        TimeSpan? callTimeout = null, int first = 0)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Count == 0) throw new ArgumentException("give at least one server address", nameof(addresses));
        _addresses = [.. addresses];
        _callTimeout = callTimeout ?? TimeSpan.FromSeconds(30);
        credentials ??= ClientCredentials.None;
        _headers = credentials.Headers();
        var backoff = RetryPolicy.Default;
        _channels = new GrpcChannel[_addresses.Length];
        _clients = new GenerationGrpc.GenerationClient[_addresses.Length];
        for (int i = 0; i < _addresses.Length; i++)
        {
            var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
            if (acceptAnyServerCertificate) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            credentials.ApplyTo(handler);
            _channels[i] = GrpcChannel.ForAddress(_addresses[i], new GrpcChannelOptions
            {
                HttpHandler = handler, MaxReceiveMessageSize = 16 << 20, MaxSendMessageSize = 16 << 20,
                // The channel's own reconnect backoff (1 s growing to 120 s by default) would keep failing calls for
                // seconds after a restarted server is back; SplitGenerator paces the retries itself.
                InitialReconnectBackoff = backoff.BaseDelay, MaxReconnectBackoff = backoff.MaxDelay,
            });
            _clients[i] = new GenerationGrpc.GenerationClient(_channels[i]);
        }
        _current = (int)((uint)first % (uint)_addresses.Length);
    }

    /// <summary>Calls sent again to another address because a connection failed.</summary>
    public long Failovers => Interlocked.Read(ref _failovers);

    internal Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default) =>
        CallAsync((client, options) => client.OpenAsync(request, options), cancellationToken);

    internal Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default) =>
        CallAsync((client, options) => client.StepAsync(request, options), cancellationToken);

    internal Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default) =>
        CallAsync((client, options) => client.CloseAsync(request, options), cancellationToken);

    // The transport's calls are internal (they speak the wire messages); these bind them to the interface.
    Task<OpenSessionResponse> IGenerationTransport.OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken) => OpenAsync(request, cancellationToken);
    Task<StepResponse> IGenerationTransport.StepAsync(StepRequest request, CancellationToken cancellationToken) => StepAsync(request, cancellationToken);
    Task<CloseSessionResponse> IGenerationTransport.CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken) => CloseAsync(request, cancellationToken);

    private async Task<T> CallAsync<T>(Func<GenerationGrpc.GenerationClient, CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellationToken)
    {
        for (int tried = 1; ; tried++)
        {
            int index = Volatile.Read(ref _current);
            try
            {
                using var pending = call(_clients[index], new CallOptions(_headers, DateTime.UtcNow + _callTimeout, cancellationToken));
                return await pending.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException e) when (IsTransport(e.StatusCode) && !cancellationToken.IsCancellationRequested)
            {
                if (tried >= _addresses.Length)
                    throw new GenerationUnavailableException($"{_addresses[index]}: {e.StatusCode} ({e.Status.Detail})", e);
                Interlocked.CompareExchange(ref _current, (index + 1) % _addresses.Length, index);
                Interlocked.Increment(ref _failovers);
            }
        }
    }

    // Statuses of a call that did not get the server's answer (the server's own refusals are typed responses;
    // UNAUTHENTICATED and the like are not retried).
    private static bool IsTransport(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted or StatusCode.Cancelled;

    public void Dispose()
    {
        foreach (var channel in _channels) channel.Dispose();
    }
}
