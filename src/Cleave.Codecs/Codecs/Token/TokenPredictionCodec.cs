using System.Buffers.Binary;
using System.Globalization;

namespace Cleave.Codecs;

/// <summary>
/// The <c>tq</c> codec with prediction from the step's input token (<c>tq:levels=L,clip=K,predict=token</c>): when the
/// receiver knows the token the step's hidden state was computed from (a server that sampled it), the payload carries
/// only the residual around that token's mean (<see cref="TokenPredictionTable"/>), quantized per channel to L levels
/// over ± K residual standard deviations (step c = 2K/(L − 1) residual stds) with one shared prefix code. Any other step
/// (the prompt, or a token the receiver did not sample) is quantized plainly around the table's channel means with
/// <c>prompt_levels</c>/<c>prompt_clip</c>. The first payload bit says which (1: predicted), so the receiver can check
/// the claim. Both quantizers' lo and step are derived from the model-level table on both sides; the per-session state
/// is only the table's hash and the two prefix codes. Layout in docs/format.md ("Token prediction codec").
/// </summary>
internal sealed class TokenPredictionCodec : TokenStreamCodec
{
    public const byte StateVersion = 1;
    /// <summary>Bytes of the table's SHA-256 the state carries: enough to tell tables apart, not a security boundary.</summary>
    public const int HashBytes = 16;
    public const string PredictKey = "predict";

    private readonly TokenPredictionTable _table;
    private readonly TokenQuantizer _residual, _prompt;
    private readonly byte[] _state;

    private TokenPredictionCodec(string spec, TokenPredictionTable table, TokenQuantizer residual, TokenQuantizer prompt) : base(table.Dim)
    {
        Spec = spec;
        _table = table;
        _residual = residual;
        _prompt = prompt;
        _state = SerializeState(table, residual.Code, prompt.Code);
    }

    public override string Spec { get; }
    public override ReadOnlySpan<byte> SessionState => _state;
    public override bool IsLossless => false;
    public override bool PredictsFromInputToken => true;

    /// <summary>The settings of a <c>tq:...,predict=token</c> spec: the residual's levels and clip, and the prompt's.</summary>
    public readonly record struct Settings(TokenQuantizer.Settings Residual, TokenQuantizer.Settings Prompt)
    {
        public string Spec => string.Create(CultureInfo.InvariantCulture,
            $"{TokenQuantizer.Name}:levels={Residual.Levels},clip={Residual.Clip:0.###},{PredictKey}=token,prompt_levels={Prompt.Levels},prompt_clip={Prompt.Clip:0.###}");

        public static bool IsPredictionSpec(string spec)
        {
            var parsed = CodecSpec.Parse(spec);
            return parsed.Name == TokenQuantizer.Name && parsed.GetString(PredictKey) is not null;
        }

        public static Settings Parse(string spec)
        {
            var parsed = CodecSpec.Parse(spec);
            if (parsed.Name != TokenQuantizer.Name) throw new ArgumentException($"'{spec}' is not a {TokenQuantizer.Name} spec");
            parsed.GetChoice(PredictKey, "token", "token");
            var residual = new TokenQuantizer.Settings(parsed.GetInt("levels", 7, 2, PrefixCode.MaxAlphabet), Clip(parsed, "clip", "3.6"));
            var prompt = new TokenQuantizer.Settings(parsed.GetInt("prompt_levels", 24, 2, PrefixCode.MaxAlphabet), Clip(parsed, "prompt_clip", "5"));
            parsed.EnsureAllKeysUsed();
            return new Settings(residual, prompt);
        }

        private static double Clip(CodecSpec parsed, string key, string fallback)
        {
            string text = parsed.GetString(key) ?? fallback;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double clip) || clip is <= 0 or > 64)
                throw new ArgumentException($"codec '{TokenQuantizer.Name}': {key}={text} must be a number in (0, 64] (standard deviations)");
            return clip;
        }
    }

    /// <summary>
    /// The sender's codec: both prefix codes are fitted on calibration rows (<paramref name="hidden"/>, rows of d values, and
    /// the input token of each row) coded as they will be: the residual around the table's prediction, and the plain state.
    /// </summary>
    public static TokenPredictionCodec ForSender(string spec, TokenPredictionTable table, ReadOnlySpan<float> hidden, ReadOnlySpan<int> inputTokens)
    {
        ArgumentNullException.ThrowIfNull(table);
        var settings = Settings.Parse(spec);
        int dim = table.Dim;
        if (inputTokens.Length == 0 || hidden.Length != (long)inputTokens.Length * dim)
            throw new ArgumentException($"{inputTokens.Length} calibration tokens need {(long)inputTokens.Length * dim} hidden values, got {hidden.Length}", nameof(hidden));
        var residuals = new float[hidden.Length];
        for (int r = 0; r < inputTokens.Length; r++)
        {
            var prediction = table.Prediction(inputTokens[r]);
            for (int j = 0; j < dim; j++) residuals[r * dim + j] = hidden[r * dim + j] - prediction[j];
        }
        var residual = ResidualQuantizer(table, settings.Residual, TokenQuantizer.UniformCode(settings.Residual.Levels)).WithCodeFittedTo(residuals);
        var prompt = PromptQuantizer(table, settings.Prompt, TokenQuantizer.UniformCode(settings.Prompt.Levels)).WithCodeFittedTo(hidden);
        return new TokenPredictionCodec(settings.Spec, table, residual, prompt);
    }

    /// <summary>The receiver's codec: the state must name <paramref name="table"/> (else <see cref="FrameError.ChecksumMismatch"/>) and hold codes for the spec's levels.</summary>
    public static TokenPredictionCodec ForReceiver(string spec, ReadOnlySpan<byte> state, TokenPredictionTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var settings = Settings.Parse(spec);
        if (state.Length < 1 + HashBytes) throw new FrameFormatException(FrameError.Truncated, $"token prediction codec state of {state.Length} bytes is truncated");
        if (state[0] != StateVersion) throw new FrameFormatException(FrameError.UnsupportedVersion, $"token prediction codec state version {state[0]} (expected {StateVersion})");
        if (!state.Slice(1, HashBytes).SequenceEqual(table.Sha256.AsSpan(0, HashBytes)))
            throw new FrameFormatException(FrameError.ChecksumMismatch,
                $"the session's token prediction table is {Convert.ToHexStringLower(state.Slice(1, HashBytes))}..., this side's is {Convert.ToHexStringLower(table.Sha256.AsSpan(0, HashBytes))}...");
        int offset = 1 + HashBytes;
        var residualCode = ReadCode(state, ref offset, settings.Residual.Levels, "residual");
        var promptCode = ReadCode(state, ref offset, settings.Prompt.Levels, "prompt");
        if (offset != state.Length)
            throw new FrameFormatException(FrameError.TrailingBytes, $"token prediction codec state has {state.Length - offset} bytes after its codes");
        return new TokenPredictionCodec(settings.Spec, table, ResidualQuantizer(table, settings.Residual, residualCode), PromptQuantizer(table, settings.Prompt, promptCode));
    }

    private static TokenQuantizer ResidualQuantizer(TokenPredictionTable table, TokenQuantizer.Settings settings, PrefixCode code)
    {
        var std = new double[table.Dim];
        for (int j = 0; j < std.Length; j++) std[j] = table.ResidualStd[j];
        return TokenQuantizer.FromStatistics(new double[table.Dim], std, settings, code);
    }

    private static TokenQuantizer PromptQuantizer(TokenPredictionTable table, TokenQuantizer.Settings settings, PrefixCode code)
    {
        var mean = new double[table.Dim];
        var std = new double[table.Dim];
        for (int j = 0; j < std.Length; j++)
        {
            mean[j] = table.Mean[j];
            std[j] = table.Std[j];
        }
        return TokenQuantizer.FromStatistics(mean, std, settings, code);
    }

    /// <summary>Version, the table's hash prefix, then per code its alphabet size (u16) and lengths (4 bits each, padded to a byte).</summary>
    private static byte[] SerializeState(TokenPredictionTable table, PrefixCode residual, PrefixCode prompt)
    {
        var state = new byte[1 + HashBytes + CodeBytes(residual.AlphabetSize) + CodeBytes(prompt.AlphabetSize)];
        state[0] = StateVersion;
        table.Sha256.AsSpan(0, HashBytes).CopyTo(state.AsSpan(1));
        int offset = 1 + HashBytes;
        foreach (var code in new[] { residual, prompt })
        {
            BinaryPrimitives.WriteUInt16LittleEndian(state.AsSpan(offset), (ushort)code.AlphabetSize);
            for (int s = 0; s < code.AlphabetSize; s++)
                state[offset + 2 + s / 2] |= (byte)(s % 2 == 0 ? code.LengthOf(s) << 4 : code.LengthOf(s));
            offset += CodeBytes(code.AlphabetSize);
        }
        return state;
    }

    private static int CodeBytes(int levels) => 2 + (levels + 1) / 2;

    private static PrefixCode ReadCode(ReadOnlySpan<byte> state, ref int offset, int levels, string what)
    {
        if (state.Length < offset + 2) throw new FrameFormatException(FrameError.Truncated, $"token prediction codec state ends before the {what} code");
        int stored = BinaryPrimitives.ReadUInt16LittleEndian(state[offset..]);
        if (stored != levels) throw new FrameFormatException(FrameError.BadParameters, $"token prediction codec state: the {what} code has {stored} symbols, the spec {levels} levels");
        if (state.Length < offset + CodeBytes(levels)) throw new FrameFormatException(FrameError.Truncated, $"token prediction codec state ends inside the {what} code");
        var lengths = new byte[levels];
        for (int s = 0; s < levels; s++)
        {
            byte b = state[offset + 2 + s / 2];
            lengths[s] = (byte)(s % 2 == 0 ? b >> 4 : b & 15);
        }
        if (levels % 2 == 1 && (state[offset + 2 + levels / 2] & 15) != 0)
            throw new FrameFormatException(FrameError.BadParameters, $"token prediction codec state: nonzero padding nibble after the {what} code");
        offset += CodeBytes(levels);
        return PrefixCode.FromLengths(lengths);
    }

    public override byte[] Encode(ReadOnlySpan<float> hidden) => Encode(hidden, -1);

    public override byte[] Encode(ReadOnlySpan<float> hidden, int inputToken)
    {
        if (hidden.Length == 0 || hidden.Length % Dim != 0)
            throw new ArgumentException($"hidden state must hold a positive multiple of {Dim} values, not {hidden.Length}", nameof(hidden));
        var output = new List<byte>(hidden.Length / 2 + 1);
        var writer = new BitWriter(output);
        if (inputToken >= 0)
        {
            if (hidden.Length != Dim) throw new ArgumentException("a predicted step holds exactly one token", nameof(hidden));
            var prediction = _table.Prediction(inputToken);
            Span<float> residual = Dim <= 1024 ? stackalloc float[Dim] : new float[Dim];
            for (int j = 0; j < Dim; j++) residual[j] = hidden[j] - prediction[j];
            writer.Write(1, 1);
            _residual.Encode(residual, ref writer);
        }
        else
        {
            writer.Write(0, 1);
            _prompt.Encode(hidden, ref writer);
        }
        writer.Flush();
        return [.. output];
    }

    public override bool ClaimsPrediction(ReadOnlySpan<byte> payload) => !payload.IsEmpty && (payload[0] & 0x80) != 0;

    public override void Decode(ReadOnlySpan<byte> payload, Span<float> destination) => Decode(payload, destination, -1);

    public override void Decode(ReadOnlySpan<byte> payload, Span<float> destination, int inputToken)
    {
        if (destination.Length == 0 || destination.Length % Dim != 0)
            throw new ArgumentException($"destination must hold a positive multiple of {Dim} values, not {destination.Length}", nameof(destination));
        var reader = new BitReader(payload);
        if (reader.ReadBit() == 1)
        {
            if (inputToken < 0)
                throw new FrameFormatException(FrameError.BadParameters, "the payload is predicted from the step's input token, which this side does not know (it did not sample it)");
            if (destination.Length != Dim)
                throw new FrameFormatException(FrameError.BadShape, $"a predicted payload holds one token, the step {destination.Length / Dim}");
            _residual.Decode(ref reader, destination);
            var prediction = _table.Prediction(inputToken);
            for (int j = 0; j < Dim; j++) destination[j] += prediction[j];
        }
        else
        {
            _prompt.Decode(ref reader, destination);
        }
        reader.EnsureOnlyPaddingLeft();
    }

    public override void EnsureCanHold(ReadOnlySpan<byte> payload, int tokens)
    {
        long bits = 1 + (long)tokens * Dim * Math.Min(_residual.Code.ShortestLength, _prompt.Code.ShortestLength);
        if ((long)payload.Length * 8 < bits)
            throw new FrameFormatException(FrameError.Truncated,
                $"a {payload.Length}-byte payload cannot hold {tokens} tokens of {Dim} values (at least {(bits + 7) / 8} bytes)");
    }
}
