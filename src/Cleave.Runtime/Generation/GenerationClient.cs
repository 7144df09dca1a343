using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Grpc.Net.Client;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Runtime.Generation;

/// <summary>The gRPC transport to a generation server (cleartext HTTP/2, or TLS for an https address). One client serves many concurrent sessions.</summary>
public sealed class GenerationClient : IGenerationTransport, IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly GenerationGrpc.GenerationClient _client;

    private readonly Grpc.Core.Metadata? _headers;

    public GenerationClient(Uri address) : this(address, null) { }

    /// <summary>
    /// A client presenting <paramref name="credentials"/> (API key, client certificate); over https, a server
    /// certificate that is not trusted is accepted only with <paramref name="acceptAnyServerCertificate"/> (development).
    /// </summary>
    public GenerationClient(Uri address, ClientCredentials? credentials, bool acceptAnyServerCertificate = false)
    {
        ArgumentNullException.ThrowIfNull(address);
        credentials ??= ClientCredentials.None;
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (acceptAnyServerCertificate) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        credentials.ApplyTo(handler);
        _headers = credentials.Headers();
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = 16 << 20, MaxSendMessageSize = 16 << 20 });
        _client = new GenerationGrpc.GenerationClient(_channel);
    }

    public async Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default) =>
        await _client.OpenAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);

    public async Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default) =>
        await _client.StepAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);

    public async Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default) =>
        await _client.CloseAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);

    public void Dispose() => _channel.Dispose();
}
