using System.Buffers.Binary;
using System.Net;
using Google.Protobuf;
using Grpc.Core;

namespace Cleave.Runtime.Tests;

/// <summary>
/// One gRPC call written byte by byte over its own HTTP/2 connection (h2c, prior knowledge), for tests that must
/// send what no gRPC client would: nothing at all, a length prefix without its message, a body trickled slowly.
/// </summary>
public sealed class RawHttp2Call : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly StreamingBody _body = new();
    private readonly Task<HttpResponseMessage> _response;

    public RawHttp2Call(Uri server, string method = "/cleave.v1.SplitInference/Infer")
    {
        // One handler per call: its own TCP connection, as a many-connection attacker would open.
        _client = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = false }) { Timeout = Timeout.InfiniteTimeSpan };
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = _body,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        _body.Headers.TryAddWithoutValidation("content-type", "application/grpc");
        _response = _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>
    /// Sends the request headers now. HttpClient holds them back until the first body bytes (to coalesce frames), so
    /// a call that is to send nothing must flush them explicitly.
    /// </summary>
    public Task<bool> SendHeadersAsync() => WriteAsync(ReadOnlyMemory<byte>.Empty);

    /// <summary>Writes raw body bytes now (false when the server has already ended the stream).</summary>
    public async Task<bool> WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            var stream = await _body.Stream.WaitAsync(TimeSpan.FromSeconds(20));
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
            return true;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A whole gRPC message: the 5-byte prefix (uncompressed, big-endian length) and the protobuf bytes.</summary>
    public Task<bool> WriteMessageAsync(IMessage message) => WriteAsync(Frame(message.ToByteArray()));

    /// <summary>Only the 5-byte prefix, claiming a message of <paramref name="length"/> bytes.</summary>
    public Task<bool> WritePrefixAsync(uint length)
    {
        var prefix = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), length);
        return WriteAsync(prefix);
    }

    public static byte[] Frame(byte[] message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, 5);
        return framed;
    }

    /// <summary>Whether the server has answered the call's headers yet (it does when it ends the call, or writes).</summary>
    public bool Answered => _response.IsCompleted;

    /// <summary>
    /// Waits for the call to end and returns its gRPC status (from trailers, or the trailers-only headers; for a
    /// stream the server reset, the status the gRPC spec maps the reset's error code to).
    /// </summary>
    public async Task<(StatusCode Code, string Message)> StatusAsync(TimeSpan deadline)
    {
        try { return await ReadStatusAsync(deadline); }
        catch (Exception e) when ((e as HttpProtocolException ?? e.InnerException as HttpProtocolException) is { } reset)
        {
            // Reset before or after the response headers: HttpClient wraps it in HttpRequestException before.
            var code = reset.ErrorCode switch { 0x8 => StatusCode.Cancelled, 0xb => StatusCode.ResourceExhausted, 0xc => StatusCode.PermissionDenied, _ => StatusCode.Internal };
            return (code, reset.Message);
        }
    }

    private async Task<(StatusCode Code, string Message)> ReadStatusAsync(TimeSpan deadline)
    {
        using var cancel = new CancellationTokenSource(deadline);
        using var response = await _response.WaitAsync(cancel.Token);
        if (Grpc(response.Headers) is { } trailersOnly) return trailersOnly;
        await using (var content = await response.Content.ReadAsStreamAsync(cancel.Token))
            await content.CopyToAsync(Stream.Null, cancel.Token);
        return Grpc(response.TrailingHeaders) ?? throw new InvalidOperationException($"the call ended without a grpc-status (HTTP {(int)response.StatusCode})");
    }

    private static (StatusCode, string)? Grpc(System.Net.Http.Headers.HttpHeaders headers) =>
        headers.TryGetValues("grpc-status", out var status)
            ? ((StatusCode)int.Parse(status.First(), System.Globalization.CultureInfo.InvariantCulture),
               headers.TryGetValues("grpc-message", out var message) ? Uri.UnescapeDataString(message.First()) : "")
            : null;

    public async ValueTask DisposeAsync()
    {
        _body.Finish();
        _client.Dispose();
        try { (await _response.WaitAsync(TimeSpan.FromSeconds(1))).Dispose(); }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException or OperationCanceledException or ObjectDisposedException) { }
    }

    /// <summary>A request body the test writes to while the call is open (HTTP/2 is full duplex).</summary>
    private sealed class StreamingBody : HttpContent
    {
        private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<Stream> Stream => _stream.Task;

        public void Finish() => _finished.TrySetResult();

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            _stream.TrySetResult(stream);
            return _finished.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
