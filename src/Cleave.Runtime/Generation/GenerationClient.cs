using Cleave.Runtime.Protocol;
using Grpc.Net.Client;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Runtime.Generation;

/// <summary>The gRPC transport to a generation server (cleartext HTTP/2). One client serves many concurrent sessions.</summary>
public sealed class GenerationClient : IGenerationTransport, IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly GenerationGrpc.GenerationClient _client;

    public GenerationClient(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = 16 << 20, MaxSendMessageSize = 16 << 20 });
        _client = new GenerationGrpc.GenerationClient(_channel);
    }

    public async Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default) =>
        await _client.OpenAsync(request, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);

    public async Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default) =>
        await _client.StepAsync(request, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);

    public async Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default) =>
        await _client.CloseAsync(request, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);

    public void Dispose() => _channel.Dispose();
}
