namespace Cleave.Codecs;

/// <summary>
/// How a language model's per-token hidden states ([T, d] floats per step) cross the cut within one session. Two kinds:
/// a frame codec (any <see cref="FeatureCodecs"/> spec: every step is a self-describing frame, no session state), or
/// the per-session <c>tq</c> codec (<see cref="TokenQuantizer"/>: state sent once at session start, then bare payloads).
/// </summary>
public abstract class TokenStreamCodec
{
    private protected TokenStreamCodec(int dim) => Dim = dim;

    public int Dim { get; }

    /// <summary>The spec the client asked for (the server needs it, and <see cref="SessionState"/>, to decode).</summary>
    public abstract string Spec { get; }

    /// <summary>Bytes sent once when the session opens (empty for frame codecs).</summary>
    public abstract ReadOnlySpan<byte> SessionState { get; }

    public abstract bool IsLossless { get; }

    /// <summary>Encodes <paramref name="hidden"/> (T rows of <see cref="Dim"/> values) as one step's payload.</summary>
    public abstract byte[] Encode(ReadOnlySpan<float> hidden);

    /// <summary>Decodes one step's payload of <c>destination.Length / Dim</c> tokens; bad bytes give <see cref="FrameFormatException"/>.</summary>
    public abstract void Decode(ReadOnlySpan<byte> payload, Span<float> destination);

    /// <summary>
    /// Whether the codec can predict a one-token step's hidden state from its input token when the receiver knows that
    /// token (<c>tq:...,predict=token</c>: a server that sampled the token itself).
    /// </summary>
    public virtual bool PredictsFromInputToken => false;

    /// <summary>
    /// Encodes a one-token step whose input token <paramref name="inputToken"/> the receiver knows (it sampled it), or any
    /// step when <paramref name="inputToken"/> is negative. Codecs that do not predict ignore the token.
    /// </summary>
    public virtual byte[] Encode(ReadOnlySpan<float> hidden, int inputToken) => Encode(hidden);

    /// <summary>Whether <paramref name="payload"/> says it was predicted from the step's input token (which the receiver must know).</summary>
    public virtual bool ClaimsPrediction(ReadOnlySpan<byte> payload) => false;

    /// <summary>
    /// Decodes a step whose input token the receiver knows (<paramref name="inputToken"/>; negative: it does not). A
    /// payload predicted from an unknown token gives <see cref="FrameFormatException"/>.
    /// </summary>
    public virtual void Decode(ReadOnlySpan<byte> payload, Span<float> destination, int inputToken) => Decode(payload, destination);

    /// <summary>
    /// Decodes a payload of <paramref name="tokens"/> tokens into a new [T, d] array. The payload must be able to hold
    /// that many tokens before the array is allocated: a frame must claim exactly [T, d], a <c>tq</c> payload must have at
    /// least one bit a value (its prefix code's shortest length), so a hostile T costs nothing.
    /// </summary>
    public float[] Decode(ReadOnlySpan<byte> payload, int tokens) => Decode(payload, tokens, -1);

    /// <summary>As <see cref="Decode(ReadOnlySpan{byte}, int)"/>, for a step whose input token the receiver knows (negative: it does not).</summary>
    public float[] Decode(ReadOnlySpan<byte> payload, int tokens, int inputToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        EnsureCanHold(payload, tokens);
        var values = new float[checked(tokens * Dim)];
        Decode(payload, values, inputToken);
        return values;
    }

    /// <summary>
    /// Throws <see cref="FrameFormatException"/> unless <paramref name="payload"/> could describe <paramref name="tokens"/>
    /// tokens (a cheap check of its size or frame header; decoding can still find it corrupt).
    /// </summary>
    public abstract void EnsureCanHold(ReadOnlySpan<byte> payload, int tokens);

    /// <summary>
    /// The sender's codec for <paramref name="spec"/>. A <c>tq</c> spec needs calibration samples (rows of
    /// <paramref name="dim"/> values), asked for only then.
    /// </summary>
    public static TokenStreamCodec ForSender(string spec, int dim, Func<float[]> calibrationSamples)
    {
        ArgumentNullException.ThrowIfNull(calibrationSamples);
        if (PredictsFromInputTokens(spec))
            throw new ArgumentException($"codec '{spec}' predicts from input tokens: it needs the model's token prediction table and calibration rows with their tokens");
        if (TokenQuantizer.Settings.IsTokenSpec(spec))
        {
            var settings = TokenQuantizer.Settings.Parse(spec);
            return new SessionTokenCodec(settings.Spec, TokenQuantizer.Fit(calibrationSamples(), dim, settings));
        }
        return new FrameTokenCodec(FeatureCodecs.Create(spec), dim);
    }

    /// <summary>Whether <paramref name="spec"/> is the token codec with prediction from input tokens (<c>tq:...,predict=token</c>).</summary>
    public static bool PredictsFromInputTokens(string spec) => TokenPredictionCodec.Settings.IsPredictionSpec(spec);

    /// <summary>
    /// The sender's codec for a <c>tq:...,predict=token</c> spec: the model's <paramref name="table"/> for the split, and
    /// calibration rows (<paramref name="hidden"/>, rows of the table's d values) with the input token of each row, on which
    /// the prefix codes are fitted (use rows the table was not fitted on: their residuals are what steps will send).
    /// </summary>
    public static TokenStreamCodec ForPredictingSender(string spec, TokenPredictionTable table, ReadOnlySpan<float> hidden, ReadOnlySpan<int> inputTokens) =>
        TokenPredictionCodec.ForSender(spec, table, hidden, inputTokens);

    /// <summary>
    /// The receiver's codec for a <c>tq:...,predict=token</c> spec: the state must name <paramref name="table"/> (a
    /// different table gives <see cref="FrameFormatException"/> with <see cref="FrameError.ChecksumMismatch"/>).
    /// </summary>
    public static TokenStreamCodec ForPredictingReceiver(string spec, ReadOnlySpan<byte> sessionState, TokenPredictionTable table) =>
        TokenPredictionCodec.ForReceiver(spec, sessionState, table);

    /// <summary>The receiver's codec: the spec and session state the sender announced. Bad state gives <see cref="FrameFormatException"/>.</summary>
    public static TokenStreamCodec ForReceiver(string spec, ReadOnlySpan<byte> sessionState, int dim)
    {
        if (PredictsFromInputTokens(spec))
            throw new ArgumentException($"codec '{spec}' predicts from input tokens: it needs the model's token prediction table");
        if (TokenQuantizer.Settings.IsTokenSpec(spec))
        {
            var settings = TokenQuantizer.Settings.Parse(spec);
            var quantizer = TokenQuantizer.ParseState(sessionState);
            if (quantizer.Dim != dim)
                throw new FrameFormatException(FrameError.BadShape, $"token codec state is for d = {quantizer.Dim}, the model's hidden state has d = {dim}");
            return new SessionTokenCodec(settings.Spec, quantizer);
        }
        if (!sessionState.IsEmpty)
            throw new FrameFormatException(FrameError.BadParameters, $"codec {spec} takes no session state, got {sessionState.Length} bytes");
        return new FrameTokenCodec(FeatureCodecs.Create(spec), dim);
    }

    private sealed class FrameTokenCodec(FeatureCodec codec, int dim) : TokenStreamCodec(dim)
    {
        public override string Spec => codec.Spec;
        public override ReadOnlySpan<byte> SessionState => [];
        public override bool IsLossless => codec.IsLossless;

        public override byte[] Encode(ReadOnlySpan<float> hidden)
        {
            if (hidden.Length == 0 || hidden.Length % Dim != 0)
                throw new ArgumentException($"hidden state must hold a positive multiple of {Dim} values, not {hidden.Length}", nameof(hidden));
            return codec.Encode(hidden, new TensorShape(hidden.Length / Dim, Dim));
        }

        public override void Decode(ReadOnlySpan<byte> payload, Span<float> destination)
        {
            EnsureShape(FeatureFrame.ReadHeader(payload), destination.Length / Dim);
            FeatureFrame.Decode(payload, destination);
        }

        public override void EnsureCanHold(ReadOnlySpan<byte> payload, int tokens) =>
            EnsureShape(FeatureFrame.ReadHeader(payload), tokens);

        private void EnsureShape(FrameHeader header, long tokens)
        {
            if (header.Shape.Rank != 2 || header.Shape[1] != Dim || header.Shape[0] != tokens)
                throw new FrameFormatException(FrameError.BadShape, $"frame holds {header.Shape}, expected [{tokens}x{Dim}]");
        }
    }

    private sealed class SessionTokenCodec(string spec, TokenQuantizer quantizer) : TokenStreamCodec(quantizer.Dim)
    {
        private readonly byte[] _state = quantizer.SerializeState();

        public override string Spec => spec;
        public override ReadOnlySpan<byte> SessionState => _state;
        public override bool IsLossless => false;
        public override byte[] Encode(ReadOnlySpan<float> hidden) => quantizer.Encode(hidden);
        public override void Decode(ReadOnlySpan<byte> payload, Span<float> destination) => quantizer.Decode(payload, destination);

        public override void EnsureCanHold(ReadOnlySpan<byte> payload, int tokens)
        {
            long bits = (long)tokens * Dim * quantizer.Code.ShortestLength;
            if ((long)payload.Length * 8 < bits)
                throw new FrameFormatException(FrameError.Truncated,
                    $"a {payload.Length}-byte tq payload cannot hold {tokens} tokens of {Dim} values (at least {(bits + 7) / 8} bytes)");
        }
    }
}
