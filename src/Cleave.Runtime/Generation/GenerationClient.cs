using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The gRPC transport to a generation server (cleartext HTTP/2, or TLS for an https address). One client serves many
/// concurrent sessions. Every call has a deadline; a call that cannot reach the server or breaks throws
/// <see cref="GenerationUnavailableException"/> (the server's typed errors come back in the responses).
/// </summary>
public sealed class GenerationClient : IGenerationTransport, IDisposable
{
    private readonly Uri _address;
    private readonly GrpcChannel _channel;
    private readonly GenerationGrpc.GenerationClient _client;
    private readonly TimeSpan _callTimeout;
    private readonly Metadata? _headers;

    public GenerationClient(Uri address) : this(address, null) { }

    /// <summary>
    /// A client presenting <paramref name="credentials"/> (API key, client certificate); over https, a server
    /// certificate that is not trusted is accepted only with <paramref name="acceptAnyServerCertificate"/> (development).
    /// </summary>
    /// <param name="callTimeout">How long one call may take (default 30 s): a server that stopped answering is then unavailable.</param>
    public GenerationClient(Uri address, ClientCredentials? credentials, bool acceptAnyServerCertificate = false, TimeSpan? callTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        _address = address;
        _callTimeout = callTimeout ?? TimeSpan.FromSeconds(30);
        credentials ??= ClientCredentials.None;
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (acceptAnyServerCertificate) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        credentials.ApplyTo(handler);
        _headers = credentials.Headers();
        var backoff = RetryPolicy.Default;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler, MaxReceiveMessageSize = 16 << 20, MaxSendMessageSize = 16 << 20,
            // The channel's own reconnect backoff (1 s growing to 120 s by default) would keep failing calls for
            // seconds after a restarted server is back; SplitGenerator paces the retries itself.
            InitialReconnectBackoff = backoff.BaseDelay, MaxReconnectBackoff = backoff.MaxDelay,
        });
        _client = new GenerationGrpc.GenerationClient(_channel);
    }

    public Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(options => _client.OpenAsync(request, options), cancellationToken);

    public Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(options => _client.StepAsync(request, options), cancellationToken);

    public Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(options => _client.CloseAsync(request, options), cancellationToken);

    private async Task<T> CallAsync<T>(Func<CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            using var pending = call(new CallOptions(_headers, DateTime.UtcNow + _callTimeout, cancellationToken));
            return await pending.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (IsTransport(e.StatusCode) && !cancellationToken.IsCancellationRequested)
        {
            throw new GenerationUnavailableException($"{_address}: {e.StatusCode} ({e.Status.Detail})", e);
        }
    }

    // Statuses of a call that did not get the server's answer (the server's own refusals are typed responses;
    // UNAUTHENTICATED and the like are not retried).
    private static bool IsTransport(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted or StatusCode.Cancelled;

    public void Dispose() => _channel.Dispose();
}
