// Hostile-client probes against a running `cleave serve`, measuring the server's resident memory (RSS) before,
// during (peak) and after each attack. Plain HTTP/2 (h2c) and hand-written protobuf, so it sends exactly what no
// well-behaved client would. Used for the figures in docs/security.md; run with the .NET 10 SDK:
//
//   dotnet run docs/security-probes.cs -- ATTACK URL SERVER_PID [options]
//
//   bomb    URL PID IMAGE.jpg [N=8]    full mode: N requests with IMAGE's header rewritten to 10000x10000, cut short
//   nohello URL PID [N=50]             N streams (own connections) that never send a Hello
//   trickle URL PID HASH [N=50] [CLAIM=16777216] [SECONDS=20]
//                                      N connections: Hello, a message prefix claiming CLAIM bytes, then CHUNK bytes per 100 ms
//                                      for SECONDS (CHUNK = 1024, or give it as the 8th argument)
//   deaf    URL PID HASH [PINGS=3000000]  one stream sends PINGS pings and never reads the pongs
//
// HASH is the split's manifest hash (`cleave serve` prints it), or "full" for a full-mode stream. Output: one line per attack with the statuses the
// probe saw and RSS before / peak during / after (5 s after the attack ended).
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;

if (args.Length < 3) { Console.Error.WriteLine("usage: ATTACK URL SERVER_PID [options] (see the file's header)"); return 2; }
var server = new Uri(args[1]);
int pid = int.Parse(args[2]);
string Arg(int i, string fallback) => args.Length > i ? args[i] : fallback;

long before = Rss(pid), peak = before;
using var sampling = new CancellationTokenSource();
var sampler = Task.Run(async () =>
{
    while (!sampling.IsCancellationRequested)
    {
        peak = Math.Max(peak, Rss(pid));
        try { await Task.Delay(100, sampling.Token); } catch (OperationCanceledException) { }
    }
});
var clock = Stopwatch.StartNew();
string outcome = args[0] switch
{
    "bomb" => await Bomb(File.ReadAllBytes(args[3]), int.Parse(Arg(4, "8"))),
    "nohello" => await NoHello(int.Parse(Arg(3, "50"))),
    "trickle" => await Trickle(args[3], int.Parse(Arg(4, "50")), uint.Parse(Arg(5, "16777216")), double.Parse(Arg(6, "20")), int.Parse(Arg(7, "1024"))),
    "deaf" => await Deaf(args[3], int.Parse(Arg(4, "3000000"))),
    _ => throw new ArgumentException($"unknown attack '{args[0]}'"),
};
double took = clock.Elapsed.TotalSeconds;
await Task.Delay(5000);
sampling.Cancel();
await sampler;
long after = Rss(pid);
Console.WriteLine($"{args[0]}: {outcome}; {took:0.0} s; server RSS before {Mib(before)}, peak during {Mib(peak)}, after {Mib(after)}");
return 0;

async Task<string> Bomb(byte[] jpeg, int n)
{
    var bomb = ClaimingSize(jpeg, 10_000, 10_000);
    await using var call = new Call(server);
    await call.Send(Message(1, Fields(Str(1, "probe"), Str(4, "full"))));
    var body = new List<byte>();
    for (int i = 0; i < n; i++) body.AddRange(Message(2, Fields(Str(1, $"bomb{i}"), Bytes(2, bomb))));
    await call.Send([.. body]);
    var replies = await call.ReadReplies(n + 1, TimeSpan.FromSeconds(60));
    return $"{bomb.Length}-byte image x{n}: {replies}";
}

async Task<string> NoHello(int n)
{
    var calls = Enumerable.Range(0, n).Select(_ => new Call(server)).ToList();
    foreach (var c in calls) await c.Send([]);
    var statuses = await Task.WhenAll(calls.Select(c => c.Status(TimeSpan.FromSeconds(120))));
    foreach (var c in calls) await c.DisposeAsync();
    return $"{n} silent streams ended: {Count(statuses)}";
}

async Task<string> Trickle(string hash, int n, uint claim, double seconds, int chunkBytes)
{
    var calls = Enumerable.Range(0, n).Select(_ => new Call(server)).ToList();
    var end = DateTime.UtcNow.AddSeconds(seconds);
    var runs = calls.Select(async c =>
    {
        var prefix = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), claim);
        if (!await c.Send([.. HelloFor(hash), .. prefix])) return "write failed";
        var chunk = new byte[chunkBytes];
        while (DateTime.UtcNow < end && await c.Send(chunk)) await Task.Delay(100);
        return await c.Status(TimeSpan.FromSeconds(5)); // a stream the server has not ended reports OperationCanceled/TaskCanceled

    }).ToList();
    var statuses = await Task.WhenAll(runs);
    foreach (var c in calls) await c.DisposeAsync();
    return $"{n} connections claiming {claim} bytes, {chunkBytes} bytes per 100 ms: {Count(statuses)}";
}

async Task<string> Deaf(string hash, int pings)
{
    await using var call = new Call(server);
    await call.Send(HelloFor(hash));
    int sent = 0;
    var batch = new List<byte>();
    // Pongs start the response at once, so only a failed write (the server ended the stream) stops the sender.
    while (sent < pings)
    {
        batch.Clear();
        for (int i = 0; i < 1000 && sent < pings; i++, sent++) batch.AddRange(Message(3, Varint(1, (ulong)sent)));
        if (!await call.Send([.. batch])) break;
    }
    var status = await call.Status(TimeSpan.FromSeconds(120));
    return $"{sent} pings sent without reading, then read: {status}";
}

// HASH "full" opens a full-mode stream instead of a split one.
static byte[] HelloFor(string hash) => hash == "full"
    ? Message(1, Fields(Str(1, "probe"), Str(4, "full")))
    : Message(1, Fields(Str(1, "probe"), Str(2, hash), Str(4, "split")));

static string Count(IEnumerable<string> statuses) => string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{g.Count()} x {g.Key}"));

static long Rss(int pid)
{
    foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    return 0;
}

static string Mib(long bytes) => $"{bytes / 1048576.0:0} MiB";

// A JPEG with its frame header rewritten to claim width x height, cut 64 bytes into its scan.
static byte[] ClaimingSize(byte[] jpeg, int width, int height)
{
    var copy = (byte[])jpeg.Clone();
    int sof = Marker(copy, 0xC0, 0xC2);
    BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 5), (ushort)height);
    BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 7), (ushort)width);
    int sos = Marker(copy, 0xDA, 0xDA);
    return copy[..(sos + 2 + BinaryPrimitives.ReadUInt16BigEndian(copy.AsSpan(sos + 2)) + 64)];
}

static int Marker(byte[] jpeg, byte first, byte last)
{
    for (int i = 2; i + 1 < jpeg.Length; i++)
        if (jpeg[i] == 0xFF && jpeg[i + 1] >= first && jpeg[i + 1] <= last) return i;
    throw new InvalidDataException("not a baseline or progressive JPEG");
}

// Protobuf by hand: ClientMessage { hello = 1 | request = 2 | ping = 3 }, framed with gRPC's 5-byte prefix.
static byte[] Message(int kind, byte[] inner)
{
    var message = Fields(Len(kind, inner));
    var framed = new byte[5 + message.Length];
    BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
    message.CopyTo(framed, 5);
    return framed;
}

static byte[] Fields(params byte[][] fields) => [.. fields.SelectMany(f => f)];
static byte[] Str(int field, string value) => Len(field, Encoding.UTF8.GetBytes(value));
static byte[] Bytes(int field, byte[] value) => Len(field, value);
static byte[] Len(int field, byte[] value) => [.. VarintBytes((ulong)(field << 3 | 2)), .. VarintBytes((ulong)value.Length), .. value];
static byte[] Varint(int field, ulong value) => [.. VarintBytes((ulong)(field << 3)), .. VarintBytes(value)];
static byte[] VarintBytes(ulong v)
{
    var b = new List<byte>();
    do { byte x = (byte)(v & 0x7F); v >>= 7; b.Add(v != 0 ? (byte)(x | 0x80) : x); } while (v != 0);
    return [.. b];
}

/// <summary>One call to cleave.v1.SplitInference/Infer on its own HTTP/2 connection, body written by hand.</summary>
sealed class Call : IAsyncDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { EnableMultipleHttp2Connections = false }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Body _body = new();
    private readonly Task<HttpResponseMessage> _response;

    public Call(Uri server)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, "/cleave.v1.SplitInference/Infer"))
        {
            Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = _body,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        _body.Headers.TryAddWithoutValidation("content-type", "application/grpc");
        _response = _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public bool Answered => _response.IsCompleted;

    public async Task<bool> Send(byte[] bytes)
    {
        try
        {
            var stream = await _body.Stream.WaitAsync(TimeSpan.FromSeconds(30));
            await stream.WriteAsync(bytes);
            await stream.FlushAsync(); // also sends the headers, which HttpClient holds back until the body starts
            return true;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException or OperationCanceledException or TimeoutException) { return false; }
    }

    /// <summary>Reads the whole response; returns "N replies, status CODE (message)".</summary>
    public async Task<string> ReadReplies(int expected, TimeSpan deadline)
    {
        using var cancel = new CancellationTokenSource(deadline);
        var response = await _response.WaitAsync(cancel.Token);
        int replies = 0;
        var buffer = new MemoryStream();
        await using (var content = await response.Content.ReadAsStreamAsync(cancel.Token))
        {
            var chunk = new byte[65536];
            int n;
            while (replies < expected && (n = await content.ReadAsync(chunk, cancel.Token)) > 0)
            {
                buffer.Write(chunk, 0, n);
                replies = CountFrames(buffer.ToArray(), out _);
            }
        }
        var frames = buffer.ToArray();
        CountFrames(frames, out var errors);
        return $"{replies} replies ({string.Join(", ", errors.GroupBy(e => e).Select(g => $"{g.Count()} x {g.Key}"))})";
    }

    public async Task<string> Status(TimeSpan deadline)
    {
        try
        {
            using var cancel = new CancellationTokenSource(deadline);
            var response = await _response.WaitAsync(cancel.Token);
            if (Grpc(response.Headers) is { } only) return only;
            await using (var content = await response.Content.ReadAsStreamAsync(cancel.Token)) await content.CopyToAsync(Stream.Null, cancel.Token);
            return Grpc(response.TrailingHeaders) ?? $"HTTP {(int)response.StatusCode} without grpc-status";
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or TimeoutException) { return $"{e.GetType().Name}: {e.Message}"; }
    }

    private static string? Grpc(System.Net.Http.Headers.HttpHeaders headers) =>
        headers.TryGetValues("grpc-status", out var status)
            ? $"grpc-status {status.First()} ({(headers.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.First()) : "")})" : null;

    // ServerMessage frames; for each InferResponse (field 2) with an Error (field 4), the error code (field 1) as text.
    private static int CountFrames(byte[] data, out List<string> errors)
    {
        errors = [];
        int at = 0, count = 0;
        while (at + 5 <= data.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at + 1));
            if (at + 5 + length > data.Length) break;
            var message = data.AsSpan(at + 5, length);
            if (message.Length > 0 && message[0] == 0x12)
                errors.Add(ErrorCode(message[(1 + VarintLength(message[1..]))..]));
            at += 5 + length;
            count++;
        }
        return count;
    }

    private static string ErrorCode(ReadOnlySpan<byte> response)
    {
        int at = 0;
        while (at < response.Length)
        {
            ulong key = ReadVarint(response, ref at);
            if ((key & 7) == 2)
            {
                int length = (int)ReadVarint(response, ref at);
                if (key >> 3 == 4 && length > 1) { int inner = 1; return $"error {ReadVarint(response.Slice(at, length), ref inner)}"; }
                at += length;
            }
            else if ((key & 7) == 0) ReadVarint(response, ref at);
            else if ((key & 7) == 1) at += 8;
            else at += 4;
        }
        return "answer";
    }

    private static int VarintLength(ReadOnlySpan<byte> s) { int at = 0; ReadVarint(s, ref at); return at; }

    private static ulong ReadVarint(ReadOnlySpan<byte> s, ref int at)
    {
        ulong v = 0;
        for (int shift = 0; at < s.Length; shift += 7)
        {
            byte b = s[at++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) break;
        }
        return v;
    }

    public async ValueTask DisposeAsync()
    {
        _body.Done.TrySetResult();
        _client.Dispose();
        try { (await _response.WaitAsync(TimeSpan.FromSeconds(1))).Dispose(); } catch (Exception) { }
    }

    private sealed class Body : HttpContent
    {
        private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task<Stream> Stream => _stream.Task;
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) { _stream.TrySetResult(stream); return Done.Task; }
        protected override bool TryComputeLength(out long length) { length = -1; return false; }
    }
}
