using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Protocol;
using Google.Protobuf;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The client side of split generation: runs the embedding and the first k layers with its own KV cache, encodes each
/// step's hidden states with the session's codec, and lets the server run the rest. The prompt goes as one [T, d]
/// payload, then one payload per generated token. When the server has evicted or expired the session, the client
/// re-opens it with every payload sent so far (kept for that), which rebuilds the server's cache, and carries on.
/// </summary>
public sealed class SplitGenerator(KvCacheModel head, LlamaModelConfig config, int splitLayer, TokenStreamCodec codec, IGenerationTransport transport)
{
    /// <summary>Called after each new token (before it is sent back through the head); tests use it to interfere.</summary>
    public Action<int>? OnToken { get; init; }

    /// <summary>The server's id of the current session (null before the first open).</summary>
    public string? SessionId { get; private set; }

    public async Task<SplitGenerationResult> GenerateAsync(IReadOnlyList<int> prompt, int maxNewTokens, SamplingSettings? sampling = null,
        bool clientSamples = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Count == 0) throw new ArgumentException("the prompt needs at least one token (BOS)", nameof(prompt));
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        sampling ??= SamplingSettings.Greedy;
        var stats = new Stats();
        long started = Stopwatch.GetTimestamp();
        var generated = new List<int>(maxNewTokens);
        if (maxNewTokens == 0) return stats.Result(prompt, generated, Stopwatch.GetElapsedTime(started));

        var open = new OpenSessionRequest
        {
            ModelSha256 = config.SourceSha256, SplitLayer = (uint)splitLayer, Codec = codec.Spec,
            CodecState = ByteString.CopyFrom(codec.SessionState), Sampling = sampling.ToProto(clientSamples, clientSamples ? GenerationEngine.DefaultTopLogits : 0),
        };
        stats.StateBytes = codec.SessionState.Length;
        var opened = await transport.OpenAsync(open, cancellationToken).ConfigureAwait(false);
        if (opened.Error is not null) throw GenerationException.From(opened.Error);
        SessionId = opened.SessionId;
        int maxPositions = (int)opened.MaxPositions;
        var history = new List<HistoryChunk>();
        using var cache = new KvCacheSession(head);
        try
        {
            int[] feed = [.. prompt];
            while (true)
            {
                long clientStart = Stopwatch.GetTimestamp();
                float[] hidden = cache.Run(feed);
                var chunk = new HistoryChunk { Tokens = (uint)feed.Length, Payload = ByteString.CopyFrom(codec.Encode(hidden)) };
                stats.ClientMs += Stopwatch.GetElapsedTime(clientStart).TotalMilliseconds;

                var response = await StepWithResumeAsync(open, history, chunk, stats, cancellationToken).ConfigureAwait(false);
                history.Add(chunk);
                stats.TokensSent += feed.Length;
                stats.UplinkPayloadBytes += chunk.Payload.Length;

                int next = response.Token;
                if (clientSamples)
                {
                    long sampleStart = Stopwatch.GetTimestamp();
                    var top = new (int, float)[response.TopLogits.Count];
                    for (int i = 0; i < top.Length; i++) top[i] = (response.TopLogits[i].Token, response.TopLogits[i].Logit);
                    next = TokenSampler.Sample(top, sampling, cache.PastLength);
                    stats.ClientMs += Stopwatch.GetElapsedTime(sampleStart).TotalMilliseconds;
                }
                if (next == Llama2cTokenizer.Bos) break; // run.c stops where a new story would begin
                generated.Add(next);
                OnToken?.Invoke(next);
                if (generated.Count >= maxNewTokens || cache.PastLength >= Math.Min(maxPositions, config.SeqLen)) break;
                feed = [next];
            }
        }
        finally
        {
            try
            {
                await transport.CloseAsync(new CloseSessionRequest { SessionId = SessionId }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // the caller gave up; the server expires the session
            }
        }
        return stats.Result(prompt, generated, Stopwatch.GetElapsedTime(started));
    }

    private async Task<StepResponse> StepWithResumeAsync(OpenSessionRequest open, List<HistoryChunk> history, HistoryChunk chunk, Stats stats,
        CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var step = new StepRequest { SessionId = SessionId, Position = (uint)SentTokens(history), Tokens = chunk.Tokens, Payload = chunk.Payload };
            stats.UplinkMessageBytes += step.CalculateSize();
            var response = await transport.StepAsync(step, cancellationToken).ConfigureAwait(false);
            stats.DownlinkMessageBytes += response.CalculateSize();
            if (response.Error is null)
            {
                stats.ServerMs += response.ServerMs;
                stats.Steps++;
                return response;
            }
            var error = GenerationException.From(response.Error);
            if (!error.CanResume || attempt >= 3) throw error;

            var resume = open.Clone();
            resume.ResumeSessionId = SessionId;
            resume.History.AddRange(history);
            stats.ResendBytes += resume.CalculateSize();
            var reopened = await transport.OpenAsync(resume, cancellationToken).ConfigureAwait(false);
            if (reopened.Error is not null) throw GenerationException.From(reopened.Error);
            stats.Resumes++;
        }
    }

    private static int SentTokens(List<HistoryChunk> history)
    {
        int total = 0;
        foreach (var chunk in history) total += (int)chunk.Tokens;
        return total;
    }

    private sealed class Stats
    {
        public int StateBytes, TokensSent, Steps, Resumes;
        public long UplinkPayloadBytes, UplinkMessageBytes, DownlinkMessageBytes, ResendBytes;
        public double ClientMs, ServerMs;

        public SplitGenerationResult Result(IReadOnlyList<int> prompt, List<int> generated, TimeSpan elapsed) => new()
        {
            PromptTokens = [.. prompt], GeneratedTokens = [.. generated], Elapsed = elapsed, SessionStateBytes = StateBytes,
            TokensSent = TokensSent, Steps = Steps, Resumes = Resumes, UplinkPayloadBytes = UplinkPayloadBytes,
            UplinkMessageBytes = UplinkMessageBytes, DownlinkMessageBytes = DownlinkMessageBytes, ResendBytes = ResendBytes,
            ClientMs = ClientMs, ServerMs = ServerMs,
        };
    }
}

/// <summary>What one split generation produced and what it cost on the wire and on each side.</summary>
public sealed record SplitGenerationResult
{
    public required int[] PromptTokens { get; init; }
    public required int[] GeneratedTokens { get; init; }
    public TimeSpan Elapsed { get; init; }
    /// <summary>Per-session codec state sent at open (0 for frame codecs).</summary>
    public int SessionStateBytes { get; init; }
    /// <summary>Tokens whose hidden states crossed the cut (the prompt, then each generated token but the last).</summary>
    public int TokensSent { get; init; }
    /// <summary>Steps answered (the prefill and one per token sent after it).</summary>
    public int Steps { get; init; }
    public int Resumes { get; init; }
    /// <summary>Encoded hidden states only (the codec's bytes), first sends.</summary>
    public long UplinkPayloadBytes { get; init; }
    /// <summary>Serialized step requests (payload plus session id, position and count).</summary>
    public long UplinkMessageBytes { get; init; }
    /// <summary>Serialized step responses.</summary>
    public long DownlinkMessageBytes { get; init; }
    /// <summary>Bytes re-sent to resume evicted or expired sessions.</summary>
    public long ResendBytes { get; init; }
    public double ClientMs { get; init; }
    public double ServerMs { get; init; }

    /// <summary>Codec bits per token crossing the cut, the session state included.</summary>
    public double UplinkBitsPerToken => TokensSent == 0 ? 0 : (UplinkPayloadBytes + SessionStateBytes) * 8.0 / TokensSent;
    public double UplinkMessageBitsPerToken => TokensSent == 0 ? 0 : (UplinkMessageBytes + SessionStateBytes) * 8.0 / TokensSent;
    public double DownlinkBitsPerToken => Steps == 0 ? 0 : DownlinkMessageBytes * 8.0 / Steps;
    public double ClientMsPerToken => Steps == 0 ? 0 : ClientMs / Steps;
    public double ServerMsPerToken => Steps == 0 ? 0 : ServerMs / Steps;
    public double TokensPerSecond => GeneratedTokens.Length / Math.Max(Elapsed.TotalSeconds, 1e-9);
}
