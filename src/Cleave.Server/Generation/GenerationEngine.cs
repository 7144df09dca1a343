using System.Collections.Concurrent;
using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Protocol;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The server side of split generation, independent of the transport: it loads tail_k once, keeps one KV cache per
/// session (<see cref="SessionStore"/>), runs the steps of all sessions on a <see cref="DecodeBatcher"/> (single-token
/// steps queued at the same moment as one batched call of tail_k_batch.onnx, see <see cref="GenerationOptions.BatchDecode"/>),
/// and samples the next token or returns the top logits. The gRPC <see cref="GenerationService"/> and the in-process transport
/// both call it.
/// </summary>
public sealed class GenerationEngine : IDisposable
{
    /// <summary>How many top logits a step returns when the request names no number (the client samples from them).</summary>
    public const int DefaultTopLogits = SamplingSettings.DefaultTopLogits;

    private readonly KvCacheModel _tail;
    private readonly KvCacheBatchDecoder? _batchTail;
    private readonly ConcurrentQueue<PendingDecode> _pendingDecodes = new();
    private int _peakBatch;
    private readonly SessionStore _store;
    private readonly DecodeBatcher _batcher;
    private readonly ITimer _expiry;
    private readonly int _maxPositions;
    private readonly TokenPredictionTable? _predictionTable;

    public GenerationEngine(GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Config = LlamaModelConfig.Load(options.ModelDirectory);
        if (options.SplitLayer < 1 || options.SplitLayer >= Config.Layers)
            throw new ArgumentOutOfRangeException(nameof(options), options.SplitLayer, $"split layer must be 1..{Config.Layers - 1}");
        if (options.MaxDecodeBatch < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDecodeBatch, "MaxDecodeBatch must be at least 1");
        // The split's token prediction table, when it has one: a corrupt or foreign table stops the server here rather
        // than at the first session that needs it.
        string tablePath = TokenPredictionTableFile.PathOf(options.ModelDirectory, options.SplitLayer);
        if (File.Exists(tablePath))
        {
            _predictionTable = TokenPredictionTableFile.Read(tablePath);
            if (_predictionTable.Dim != Config.Dim || _predictionTable.Vocab != Config.VocabSize)
                throw new FrameFormatException(FrameError.BadShape, $"{tablePath} is for d = {_predictionTable.Dim}, {_predictionTable.Vocab} tokens; the model has d = {Config.Dim}, {Config.VocabSize} tokens");
        }
        string tailPath = Path.Combine(options.ModelDirectory, Llama2cExport.TailFile(options.SplitLayer));
        if (!File.Exists(tailPath)) throw new FileNotFoundException($"{tailPath} is missing: import the checkpoint with --splits", tailPath);
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = Math.Max(1, options.IntraOpThreads), InterOpNumThreads = 1 };
        _tail = new KvCacheModel(tailPath, sessionOptions);
        string batchPath = Path.Combine(options.ModelDirectory, Llama2cExport.TailBatchFile(options.SplitLayer));
        // Batched steps write into fixed-capacity caches: a folder imported before them (growing-form halves) runs unbatched.
        if (options.BatchDecode ?? (File.Exists(batchPath) && _tail.HasFixedCapacity))
        {
            try
            {
                if (!File.Exists(batchPath))
                    throw new FileNotFoundException($"{batchPath} is missing: import the checkpoint again with --splits, or turn batched decoding off", batchPath);
                _batchTail = new KvCacheBatchDecoder(batchPath, _tail, sessionOptions);
            }
            catch
            {
                _tail.Dispose();
                throw;
            }
        }
        long sessionCap = options.SessionKvCapBytes > 0 ? options.SessionKvCapBytes : long.MaxValue;
        _maxPositions = (int)Math.Min(Config.SeqLen, sessionCap / _tail.CacheBytesPerToken);
        _store = new SessionStore(options.MaxSessions, options.KvCapBytes, _tail.CacheBytesPerToken, options.IdleTimeout, options.Time);
        _batcher = new DecodeBatcher(options.EffectiveWorkers);
        var sweep = TimeSpan.FromTicks(Math.Clamp(options.IdleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 50, TimeSpan.TicksPerSecond * 10));
        _expiry = options.Time.CreateTimer(_ => _store.ExpireIdle(), null, sweep, sweep);
    }

    public GenerationOptions Options { get; }
    public LlamaModelConfig Config { get; }
    public int SplitLayer => Options.SplitLayer;
    public int HiddenWidth => _tail.InputWidth;
    public long CacheBytesPerToken => _tail.CacheBytesPerToken;
    public int OpenSessions => _store.Count;
    public long ReservedCacheBytes => _store.ReservedBytes;
    public long Evictions => _store.Evictions;
    public long Expirations => _store.Expirations;
    public int PeakRunningSteps => Math.Max(_batcher.PeakRunning, Volatile.Read(ref _peakBatch));

    /// <summary>Whether single-token steps of concurrent sessions run as one batched call (<see cref="GenerationOptions.BatchDecode"/>).</summary>
    public bool BatchesDecodeSteps => _batchTail is not null;

    /// <summary>The most decode steps that ran in one batched call (0 without batched decoding).</summary>
    public int PeakDecodeBatch => Volatile.Read(ref _peakBatch);
    public long StepsRun => _batcher.Completed;

    internal async Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            if (request.ModelSha256.Length > 0 && !string.Equals(request.ModelSha256, Config.SourceSha256, StringComparison.OrdinalIgnoreCase))
                throw new GenerationException(GenerationErrorCode.ModelMismatch, $"the server hosts model {Config.SourceSha256[..Math.Min(12, Config.SourceSha256.Length)]}..., the client runs {request.ModelSha256}");
            if (request.SplitLayer != SplitLayer)
                throw new GenerationException(GenerationErrorCode.ModelMismatch, $"the server runs layers from split layer {SplitLayer}, the client cut at {request.SplitLayer}");
            var sampling = SamplingSettings.FromProto(request.Sampling);
            TokenStreamCodec codec;
            try
            {
                codec = ReceiverCodec(request.Codec, request.CodecState.Span);
            }
            catch (ArgumentException e)
            {
                throw new GenerationException(GenerationErrorCode.BadRequest, $"codec '{request.Codec}': {e.Message}");
            }
            catch (FrameFormatException e) when (e.Error == FrameError.ChecksumMismatch)
            {
                throw new GenerationException(GenerationErrorCode.ModelMismatch, $"codec '{request.Codec}': {e.Message}");
            }
            catch (FrameFormatException e)
            {
                throw new GenerationException(GenerationErrorCode.BadPayload, $"codec state: {e.Message}");
            }

            bool resume = request.ResumeSessionId.Length > 0;
            string id = resume ? request.ResumeSessionId : NewSessionId();
            int historyTokens = CheckHistory(request.History, codec);
            int topLogits = request.Sampling is { ReturnTopLogits: > 0 } s ? (int)Math.Min(s.ReturnTopLogits, (uint)Config.VocabSize) : DefaultTopLogits;
            var session = new GenerationSession(id, new KvCacheSession(_tail), codec, sampling,
                request.Sampling?.ClientSamples ?? false, topLogits, _maxPositions);
            try
            {
                _store.Add(session, historyTokens, stepHandle: request.CompactSteps);
            }
            catch
            {
                session.Dispose();
                throw;
            }
            try
            {
                // The cache is rebuilt chunk by chunk, exactly as the steps ran the first time, so it is bit-identical.
                if (historyTokens > 0)
                    await _batcher.RunAsync(_ =>
                    {
                        foreach (var chunk in request.History)
                        {
                            float[] logits = session.Cache.Run(DecodePayload(session, chunk.Payload.Span, (int)chunk.Tokens, session.Cache.PastLength));
                            // The next chunk may be predicted from the token this server would have sampled here: sample it again
                            // (the draw depends only on the seed and the position).
                            if (session.Codec.PredictsFromInputToken && !session.ClientSamples)
                                Respond(session, logits.AsSpan(logits.Length - Config.VocabSize), 0);
                        }
                        return 0;
                    }).ConfigureAwait(false);
            }
            catch
            {
                _store.Release(session);
                _store.Remove(id);
                throw;
            }
            _store.Release(session);
            return new OpenSessionResponse { SessionId = id, Position = (uint)historyTokens, MaxPositions = (uint)_maxPositions, StepHandle = session.StepHandle };
        }
        catch (GenerationException e)
        {
            return new OpenSessionResponse { Error = e.ToError() };
        }
    }

    /// <summary>
    /// The codec a session's steps are decoded with. A <c>tq:...,predict=token</c> codec needs this split's token prediction
    /// table, and the client's must be the same (its hash is in the state): otherwise MODEL_MISMATCH.
    /// </summary>
    private TokenStreamCodec ReceiverCodec(string spec, ReadOnlySpan<byte> state)
    {
        if (!TokenStreamCodec.PredictsFromInputTokens(spec)) return TokenStreamCodec.ForReceiver(spec, state, HiddenWidth);
        if (_predictionTable is null)
            throw new GenerationException(GenerationErrorCode.ModelMismatch,
                $"codec '{spec}' needs the split's token prediction table, and this server has none ({TokenPredictionTableFile.FileName(SplitLayer)})");
        return TokenStreamCodec.ForPredictingReceiver(spec, state, _predictionTable);
    }

    /// <summary>
    /// The history's length, checked before anything is allocated or run: every chunk holds 1..max tokens, the total
    /// (summed in 64 bits, so 16,777,216 + 0xFF000004 cannot wrap to 4) is within the session's positions, and each
    /// chunk's payload could hold its tokens (<see cref="TokenStreamCodec.EnsureCanHold"/>) — a chunk claiming more
    /// tokens than its bytes can describe never reaches the [T, d] buffer.
    /// </summary>
    private int CheckHistory(IReadOnlyList<HistoryChunk> history, TokenStreamCodec codec)
    {
        ulong total = 0;
        for (int i = 0; i < history.Count; i++)
        {
            uint tokens = history[i].Tokens;
            if (tokens == 0) throw new GenerationException(GenerationErrorCode.BadRequest, $"history chunk {i} holds no tokens");
            total += tokens;
            if (total > (ulong)_maxPositions)
                throw new GenerationException(GenerationErrorCode.SessionLimit,
                    $"the history holds at least {total} tokens by chunk {i}, a session at most {_maxPositions} (model seq_len or per-session cache cap)");
        }
        for (int i = 0; i < history.Count; i++)
        {
            try
            {
                codec.EnsureCanHold(history[i].Payload.Span, (int)history[i].Tokens);
            }
            catch (FrameFormatException e)
            {
                throw new GenerationException(GenerationErrorCode.BadPayload, $"history chunk {i} ({codec.Spec}, {history[i].Tokens} tokens): {e.Message}");
            }
        }
        return (int)total;
    }

    internal async Task<StepResponse> StepAsync(StepRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        long queued = Stopwatch.GetTimestamp();
        GenerationSession session;
        try
        {
            if (!request.Packed.IsEmpty) request = Unpack(request);
            if (request.Tokens == 0) throw new GenerationException(GenerationErrorCode.BadRequest, "a step needs at least one token");
            if (request.Tokens > (uint)_maxPositions)
                throw new GenerationException(GenerationErrorCode.SessionLimit, $"a step of {request.Tokens} tokens exceeds a session's {_maxPositions} positions (model seq_len or per-session cache cap)");
            if (request.Position > (uint)_maxPositions)
                throw new GenerationException(GenerationErrorCode.BadRequest, $"position {request.Position} is beyond a session's {_maxPositions} positions");
            session = _store.Acquire(request.SessionId, (int)request.Tokens);
        }
        catch (GenerationException e)
        {
            return new StepResponse { Token = -1, Error = e.ToError() };
        }
        try
        {
            if (request.Position != session.Cache.PastLength)
                throw new GenerationException(GenerationErrorCode.BadRequest, $"session {session.Id} holds {session.Cache.PastLength} tokens, the step assumed {request.Position}");
            if (_batchTail is not null && request.Tokens == 1)
            {
                // Whichever worker gets to a drain first runs every decode step queued by then as one batch; the drains
                // queued by the steps it took find nothing left and return at once.
                var pending = new PendingDecode(session, request, queued);
                _pendingDecodes.Enqueue(pending);
                _ = _batcher.RunAsync(running =>
                {
                    RunPendingDecodes(running);
                    return 0;
                });
                return await pending.Completion.Task.ConfigureAwait(false);
            }
            return await _batcher.RunAsync(running =>
            {
                long start = Stopwatch.GetTimestamp();
                float[] hidden = DecodePayload(session, request.Payload.Span, (int)request.Tokens, (int)request.Position);
                float[] logits = session.Cache.Run(hidden);
                var response = Respond(session, logits.AsSpan(logits.Length - Config.VocabSize), running);
                response.ServerMs = (float)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                response.QueueMs = (float)Stopwatch.GetElapsedTime(queued, start).TotalMilliseconds;
                return response;
            }).ConfigureAwait(false);
        }
        catch (GenerationException e)
        {
            return new StepResponse { Token = -1, Error = e.ToError() };
        }
        finally
        {
            _store.Release(session);
        }
    }

    /// <summary>
    /// The full form of a compact step (<see cref="CompactStep"/>): the handle must belong to a session this server
    /// knows (open, or remembered as evicted or expired, which then answers with that typed error), and nothing but
    /// <c>packed</c> may be set. The result is checked and run exactly as a full step of one token.
    /// </summary>
    private StepRequest Unpack(StepRequest request)
    {
        if (request.SessionId.Length > 0 || request.Position != 0 || request.Tokens != 0 || !request.Payload.IsEmpty)
            throw new GenerationException(GenerationErrorCode.BadRequest, "a packed step carries nothing else (no session id, position, tokens or payload)");
        var packed = request.Packed.Span;
        if (!CompactStep.TryUnpack(packed, out uint handle, out uint position, out int payloadOffset, out string? error))
            throw new GenerationException(GenerationErrorCode.BadRequest, error!);
        string id = _store.IdOfHandle(handle)
            ?? throw new GenerationException(GenerationErrorCode.SessionNotFound, $"no session with step handle {handle:x8} (never granted, or closed)");
        return new StepRequest { SessionId = id, Position = position, Tokens = 1, Payload = ByteString.CopyFrom(packed[payloadOffset..]) };
    }

    /// <summary>
    /// The sampled token (or the top logits) of a step's last position. A token the server samples is remembered with the
    /// position it will be fed at: the one input token a predicting codec may take from the server's own knowledge.
    /// </summary>
    private static StepResponse Respond(GenerationSession session, ReadOnlySpan<float> last, int running)
    {
        var response = new StepResponse { Token = -1, Running = (uint)running };
        if (session.ClientSamples)
            foreach (var (token, logit) in TokenSampler.TopLogits(last, session.ReturnTopLogits))
                response.TopLogits.Add(new TokenLogit { Token = token, Logit = logit });
        else
        {
            response.Token = TokenSampler.Sample(last, session.Sampling, session.Cache.PastLength);
            session.SampledToken = response.Token;
            session.SampledAt = session.Cache.PastLength;
        }
        return response;
    }

    /// <summary>
    /// Takes the queued single-token steps (up to MaxDecodeBatch) and runs them as one batched tail call. Each step's
    /// server_ms is the batch's time divided by its size (what the step cost the server), running is the batch size.
    /// </summary>
    private void RunPendingDecodes(int running)
    {
        var batch = new List<PendingDecode>();
        long start = Stopwatch.GetTimestamp();
        while (batch.Count < Options.MaxDecodeBatch && _pendingDecodes.TryDequeue(out var pending))
        {
            try
            {
                pending.Hidden = DecodePayload(pending.Session, pending.Request.Payload.Span, 1, (int)pending.Request.Position);
                batch.Add(pending);
            }
            catch (GenerationException e)
            {
                pending.Completion.SetResult(new StepResponse { Token = -1, Error = e.ToError() });
            }
        }
        if (batch.Count == 0) return;
        int peak;
        while (batch.Count > (peak = Volatile.Read(ref _peakBatch)) && Interlocked.CompareExchange(ref _peakBatch, batch.Count, peak) != peak) { }

        int width = HiddenWidth, vocab = Config.VocabSize;
        var hidden = new float[batch.Count * width];
        var caches = new KvCacheSession[batch.Count];
        for (int b = 0; b < batch.Count; b++)
        {
            batch[b].Hidden.CopyTo(hidden, b * width);
            caches[b] = batch[b].Session.Cache;
        }
        float[] logits;
        try
        {
            // A batch of one gains nothing from padding and copying caches: it takes the single-session graph.
            logits = batch.Count == 1 ? caches[0].Run(hidden) : _batchTail!.Decode(hidden, caches);
        }
        catch (Exception e)
        {
            foreach (var pending in batch) pending.Completion.SetException(e);
            return;
        }
        float serverMs = (float)(Stopwatch.GetElapsedTime(start).TotalMilliseconds / batch.Count);
        for (int b = 0; b < batch.Count; b++)
        {
            var pending = batch[b];
            try
            {
                var response = Respond(pending.Session, logits.AsSpan(b * vocab, vocab), Math.Max(running, batch.Count));
                response.ServerMs = serverMs;
                response.QueueMs = (float)Stopwatch.GetElapsedTime(pending.Queued, start).TotalMilliseconds;
                pending.Completion.SetResult(response);
            }
            catch (Exception e)
            {
                pending.Completion.SetException(e);
            }
        }
    }

    private sealed class PendingDecode(GenerationSession session, StepRequest request, long queued)
    {
        public GenerationSession Session { get; } = session;
        public StepRequest Request { get; } = request;
        public long Queued { get; } = queued;
        public float[] Hidden { get; set; } = [];
        public TaskCompletionSource<StepResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    internal CloseSessionResponse Close(CloseSessionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new CloseSessionResponse { Closed = _store.Remove(request.SessionId) };
    }

    /// <summary>Expires idle sessions now (the timer also does it periodically); returns how many.</summary>
    public int ExpireIdleSessions() => _store.ExpireIdle();

    /// <summary>72 random bits as 12 base64url characters: every step carries the id, so it is kept short (14 bytes on the wire, not 34 for a GUID).</summary>
    public static string NewSessionId() =>
        Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(9)).Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Decodes a step at <paramref name="position"/>. A payload that claims a prediction from its input token is accepted
    /// only for a one-token step right after a step whose token this server sampled (that token is the input); otherwise
    /// BAD_REQUEST: the server never takes an input token from the client.
    /// </summary>
    private float[] DecodePayload(GenerationSession session, ReadOnlySpan<byte> payload, int tokens, int position)
    {
        int inputToken = tokens == 1 && session.SampledAt == position ? session.SampledToken : -1;
        if (inputToken < 0 && session.Codec.ClaimsPrediction(payload))
            throw new GenerationException(GenerationErrorCode.BadRequest,
                $"the step at position {position} ({tokens} tokens) is predicted from its input token, but this server did not sample that token " +
                "(a prompt step, a client-sampled session, or not the step after a sampled one)");
        try
        {
            return session.Codec.Decode(payload, tokens, inputToken);
        }
        catch (FrameFormatException e)
        {
            throw new GenerationException(GenerationErrorCode.BadPayload, $"step payload ({session.Codec.Spec}, {tokens} tokens): {e.Message}");
        }
    }

    public void Dispose()
    {
        _expiry.Dispose();
        _batcher.Dispose();
        _store.Dispose();
        _batchTail?.Dispose();
        _tail.Dispose();
    }
}
