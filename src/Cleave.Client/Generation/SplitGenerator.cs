using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Google.Protobuf;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The client side of split generation: runs the embedding and the first k layers with its own KV cache, encodes each
/// step's hidden states with the session's codec, and lets the server run the rest. The prompt goes as one [T, d]
/// payload, then one payload per generated token. When the server has evicted or expired the session, the client
/// re-opens it with every payload sent so far (kept for that), which rebuilds the server's cache, and carries on.
/// When the server cannot be reached (killed, restarting), the client waits with jittered exponential backoff and
/// resumes the same way into whichever server answers (a restarted one knows nothing of the session), so greedy
/// output is unchanged; it gives up with <see cref="GenerationUnavailableException"/> after <see cref="RetryPolicy.Deadline"/>.
/// </summary>
public sealed class SplitGenerator(KvCacheModel head, LlamaModelConfig config, int splitLayer, TokenStreamCodec codec, IGenerationTransport transport)
{
    /// <summary>Called after each new token (before it is sent back through the head); tests use it to interfere.</summary>
    public Action<int>? OnToken { get; init; }

    /// <summary>The server's id of the current session (null before the first open).</summary>
    public string? SessionId { get; private set; }

    /// <summary>
    /// Backoff and deadline for an unreachable server and for SERVER_BUSY refusals (the deadline counts from a
    /// call's first failure); <see cref="RetryPolicy.None"/> fails at the first.
    /// </summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>Clock for backoff waits and the retry deadline.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Ask the server for compact one-token steps (<see cref="CompactStep"/>; default on). They are used only when the
    /// server grants a step handle at open, so an older server gets full steps.
    /// </summary>
    public bool CompactSteps { get; init; } = true;

    // The step handle the last open or resume granted (0: full steps).
    private uint _stepHandle;

    private readonly Random _jitter = new();

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
            CodecState = ByteString.CopyFrom(codec.SessionState), Sampling = sampling.ToProto(clientSamples, clientSamples ? SamplingSettings.DefaultTopLogits : 0),
            CompactSteps = CompactSteps,
        };
        stats.StateBytes = codec.SessionState.Length;
        var opened = await OpenWithRetryAsync(open, stats, countRetrySeconds: true, cancellationToken).ConfigureAwait(false);
        SessionId = opened.SessionId;
        _stepHandle = opened.StepHandle;
        int maxPositions = (int)opened.MaxPositions;
        var history = new List<HistoryChunk>();
        using var cache = new KvCacheSession(head);
        try
        {
            int[] feed = [.. prompt];
            // The input token of a one-token step when the server sampled it itself (a codec that predicts from it may
            // use it); -1 for the prompt and when the client samples.
            int serverSampled = -1;
            while (true)
            {
                long clientStart = Stopwatch.GetTimestamp();
                float[] hidden = cache.Run(feed);
                var chunk = new HistoryChunk { Tokens = (uint)feed.Length, Payload = ByteString.CopyFrom(codec.Encode(hidden, serverSampled)) };
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
                serverSampled = clientSamples ? -1 : next;
            }
        }
        finally
        {
            try
            {
                await transport.CloseAsync(new CloseSessionRequest { SessionId = SessionId }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested || e is GenerationUnavailableException)
            {
                // the caller gave up, or the server is gone: it expires the session (or never had it)
            }
        }
        return stats.Result(prompt, generated, Stopwatch.GetElapsedTime(started));
    }

    private async Task<StepResponse> StepWithResumeAsync(OpenSessionRequest open, List<HistoryChunk> history, HistoryChunk chunk, Stats stats,
        CancellationToken cancellationToken)
    {
        var outage = new Backoff(this);
        bool resumeFirst = false;
        for (int attempt = 0; ; attempt++)
        {
            StepResponse response;
            try
            {
                if (resumeFirst)
                {
                    // The server went away: a restarted one does not know the session, and one that only lost the
                    // connection may or may not have run the step. Close whatever is left and rebuild from history.
                    await transport.CloseAsync(new CloseSessionRequest { SessionId = SessionId }, cancellationToken).ConfigureAwait(false);
                    await ResumeAsync(open, history, stats, cancellationToken).ConfigureAwait(false);
                    resumeFirst = false;
                }
                uint position = (uint)SentTokens(history);
                stats.CompactSteps |= _stepHandle != 0;
                var step = _stepHandle != 0 && chunk.Tokens == 1
                    ? new StepRequest { Packed = ByteString.CopyFrom(CompactStep.Pack(_stepHandle, position, chunk.Payload.Span)) }
                    : new StepRequest { SessionId = SessionId, Position = position, Tokens = chunk.Tokens, Payload = chunk.Payload };
                stats.UplinkMessageBytes += step.CalculateSize();
                response = await transport.StepAsync(step, cancellationToken).ConfigureAwait(false);
            }
            catch (GenerationUnavailableException e)
            {
                await outage.WaitAsync(e, 0, stats, cancellationToken).ConfigureAwait(false);
                resumeFirst = true;
                continue;
            }
            stats.DownlinkMessageBytes += response.CalculateSize();
            if (response.Error is null)
            {
                outage.Succeeded(stats);
                stats.ServerMs += response.ServerMs;
                stats.Steps++;
                return response;
            }
            var error = GenerationException.From(response.Error);
            if (error.Code == GenerationFailureCode.ServerBusy)
            {
                await outage.WaitAsync(error, error.RetryAfterMs, stats, cancellationToken).ConfigureAwait(false);
                continue;
            }
            // After a restart the session is unknown to the new server (resumed above; "not found" here means a
            // resume raced with another restart): rebuild it again.
            if (!error.CanResume && !(error.Code == GenerationFailureCode.SessionNotFound && stats.Reconnects > 0)) throw error;
            if (attempt >= 3 + stats.Reconnects) throw error;
            await ResumeAsync(open, history, stats, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Re-opens the session under its id with every chunk sent so far, through outages of the server.</summary>
    private async Task ResumeAsync(OpenSessionRequest open, List<HistoryChunk> history, Stats stats, CancellationToken cancellationToken)
    {
        var resume = open.Clone();
        resume.ResumeSessionId = SessionId;
        resume.History.AddRange(history);
        stats.ResendBytes += resume.CalculateSize();
        // Within a step's retries: the step counts the time (from its first failure to its answer).
        var opened = await OpenWithRetryAsync(resume, stats, countRetrySeconds: false, cancellationToken).ConfigureAwait(false);
        _stepHandle = opened.StepHandle;
        stats.Resumes++;
    }

    private async Task<OpenSessionResponse> OpenWithRetryAsync(OpenSessionRequest request, Stats stats, bool countRetrySeconds, CancellationToken cancellationToken)
    {
        var outage = new Backoff(this);
        while (true)
        {
            OpenSessionResponse opened;
            try { opened = await transport.OpenAsync(request, cancellationToken).ConfigureAwait(false); }
            catch (GenerationUnavailableException e)
            {
                await outage.WaitAsync(e, 0, stats, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (opened.Error is null)
            {
                if (countRetrySeconds) outage.Succeeded(stats);
                return opened;
            }
            var error = GenerationException.From(opened.Error);
            if (error.Code != GenerationFailureCode.ServerBusy) throw error;
            await outage.WaitAsync(error, error.RetryAfterMs, stats, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Retries of one call: jittered exponential backoff from its first failure until the policy's deadline.</summary>
    private sealed class Backoff(SplitGenerator owner)
    {
        private long _since;
        private int _retries;

        public async Task WaitAsync(Exception failure, uint retryAfterMs, Stats stats, CancellationToken cancellationToken)
        {
            var time = owner.Time;
            if (_retries == 0) _since = time.GetTimestamp();
            _retries++;
            TimeSpan wait;
            lock (owner._jitter) wait = owner.Retry.DelayBefore(_retries, retryAfterMs, owner._jitter);
            var elapsed = time.GetElapsedTime(_since);
            if (_retries >= owner.Retry.MaxAttempts || elapsed + wait >= owner.Retry.Deadline)
            {
                if (failure is GenerationException refused) throw refused;
                throw new GenerationUnavailableException(
                    $"the server did not come back within {elapsed.TotalSeconds:0.#} s ({_retries} tries): {failure.Message}", failure);
            }
            if (failure is GenerationUnavailableException) stats.Reconnects++;
            stats.Retries++;
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The call got its answer: the time since its first failure was spent retrying.</summary>
        public void Succeeded(Stats stats)
        {
            if (_retries > 0) stats.RetrySeconds += owner.Time.GetElapsedTime(_since).TotalSeconds;
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
        public int StateBytes, TokensSent, Steps, Resumes, Retries, Reconnects;
        public long UplinkPayloadBytes, UplinkMessageBytes, DownlinkMessageBytes, ResendBytes;
        public double ClientMs, ServerMs, RetrySeconds;
        public bool CompactSteps;

        public SplitGenerationResult Result(IReadOnlyList<int> prompt, List<int> generated, TimeSpan elapsed) => new()
        {
            PromptTokens = [.. prompt], GeneratedTokens = [.. generated], Elapsed = elapsed, SessionStateBytes = StateBytes,
            TokensSent = TokensSent, Steps = Steps, Resumes = Resumes, Retries = Retries, Reconnects = Reconnects, RetrySeconds = RetrySeconds, UplinkPayloadBytes = UplinkPayloadBytes,
            UplinkMessageBytes = UplinkMessageBytes, DownlinkMessageBytes = DownlinkMessageBytes, ResendBytes = ResendBytes,
            ClientMs = ClientMs, ServerMs = ServerMs, CompactSteps = CompactSteps,
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
    /// <summary>Sessions re-opened with their history (after an eviction, an expiry, or a server restart).</summary>
    public int Resumes { get; init; }
    /// <summary>Calls retried after a failure (server unreachable, or busy); <see cref="Reconnects"/> of them after the server was unreachable.</summary>
    public int Retries { get; init; }
    public int Reconnects { get; init; }
    /// <summary>Seconds calls spent from their first failure to their answer (an outage of the server, as this session saw it).</summary>
    public double RetrySeconds { get; init; }
    /// <summary>Encoded hidden states only (the codec's bytes), first sends.</summary>
    public long UplinkPayloadBytes { get; init; }
    /// <summary>Serialized step requests (payload plus session id, position and count; or handle, position and payload when compact).</summary>
    public long UplinkMessageBytes { get; init; }
    /// <summary>Serialized step responses.</summary>
    public long DownlinkMessageBytes { get; init; }
    /// <summary>Bytes re-sent to resume evicted or expired sessions.</summary>
    public long ResendBytes { get; init; }
    public double ClientMs { get; init; }
    public double ServerMs { get; init; }
    /// <summary>The server granted a step handle, so one-token steps went in the compact form.</summary>
    public bool CompactSteps { get; init; }

    /// <summary>Codec bits per token crossing the cut, the session state included.</summary>
    public double UplinkBitsPerToken => TokensSent == 0 ? 0 : (UplinkPayloadBytes + SessionStateBytes) * 8.0 / TokensSent;
    public double UplinkMessageBitsPerToken => TokensSent == 0 ? 0 : (UplinkMessageBytes + SessionStateBytes) * 8.0 / TokensSent;
    public double DownlinkBitsPerToken => Steps == 0 ? 0 : DownlinkMessageBytes * 8.0 / Steps;
    public double ClientMsPerToken => Steps == 0 ? 0 : ClientMs / Steps;
    public double ServerMsPerToken => Steps == 0 ? 0 : ServerMs / Steps;
    public double TokensPerSecond => GeneratedTokens.Length / Math.Max(Elapsed.TotalSeconds, 1e-9);
}
