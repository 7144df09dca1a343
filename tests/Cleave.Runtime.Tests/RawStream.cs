using Cleave.Runtime.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cleave.Runtime.Tests;

/// <summary>A bare gRPC stream to a real server, for tests that must send what <c>SplitClient</c> never would.</summary>
internal sealed class RawStream : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<ClientMessage, ServerMessage> _call;

    public RawStream(Uri server, Metadata? headers = null)
    {
        _channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions { MaxSendMessageSize = null });
        _call = new SplitInference.SplitInferenceClient(_channel).Infer(headers);
    }

    public Task SendAsync(ClientMessage message) => _call.RequestStream.WriteAsync(message);

    public Task HelloAsync(string manifestHash, string clientId = "raw", string mode = "split") =>
        SendAsync(new ClientMessage { Hello = new Hello { ClientId = clientId, ManifestHash = manifestHash, Mode = mode } });

    public Task RequestAsync(string id, byte[] payload) =>
        SendAsync(new ClientMessage { Request = new InferRequest { RequestId = id, Payload = ByteString.CopyFrom(payload) } });

    /// <summary>The next message, or null when the server ended the stream.</summary>
    public async Task<ServerMessage?> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await _call.ResponseStream.MoveNext(timeout.Token) ? _call.ResponseStream.Current : null;
    }

    /// <summary>Vanishes: cancels the call without a goodbye, as a client that lost power would.</summary>
    public void Abandon() => _call.Dispose();

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        await Task.CompletedTask;
        _channel.Dispose();
    }
}
