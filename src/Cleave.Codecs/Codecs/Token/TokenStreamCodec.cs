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

    public float[] Decode(ReadOnlySpan<byte> payload, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        var values = new float[checked(tokens * Dim)];
        Decode(payload, values);
        return values;
    }

    /// <summary>
    /// The sender's codec for <paramref name="spec"/>. A <c>tq</c> spec needs calibration samples (rows of
    /// <paramref name="dim"/> values), asked for only then.
    /// </summary>
    public static TokenStreamCodec ForSender(string spec, int dim, Func<float[]> calibrationSamples)
    {
        ArgumentNullException.ThrowIfNull(calibrationSamples);
        if (TokenQuantizer.Settings.IsTokenSpec(spec))
        {
            var settings = TokenQuantizer.Settings.Parse(spec);
            return new SessionTokenCodec(settings.Spec, TokenQuantizer.Fit(calibrationSamples(), dim, settings));
        }
        return new FrameTokenCodec(FeatureCodecs.Create(spec), dim);
    }

    /// <summary>The receiver's codec: the spec and session state the sender announced. Bad state gives <see cref="FrameFormatException"/>.</summary>
    public static TokenStreamCodec ForReceiver(string spec, ReadOnlySpan<byte> sessionState, int dim)
    {
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
            var header = FeatureFrame.ReadHeader(payload);
            if (header.Shape.Rank != 2 || header.Shape[1] != Dim || header.Shape.ElementCount != destination.Length)
                throw new FrameFormatException(FrameError.BadShape,
                    $"frame holds {header.Shape}, expected [{destination.Length / Dim}x{Dim}]");
            FeatureFrame.Decode(payload, destination);
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
    }
}
