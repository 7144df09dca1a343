using System.Buffers.Binary;
using System.Globalization;

namespace Cleave.Codecs;

/// <summary>
/// The <c>tq</c> codec for tiny per-token tensors (a language model's hidden state, d floats per token): each channel
/// j is quantized uniformly to L levels over [lo_j, lo_j + (L − 1)·step_j], and the level indices of all channels share
/// one canonical prefix code. Everything a decoder needs (d, L, the code lengths, lo and step per channel) is
/// per-session state, calibrated once and sent once (<see cref="SerializeState"/>), so a token's payload is nothing but
/// its d codes, padded to a byte. Layout in docs/format.md ("Per-session token codec").
/// </summary>
public sealed class TokenQuantizer
{
    public const byte StateVersion = 1;
    public const string Name = "tq";

    private readonly Half[] _lo, _step;
    private readonly float[] _loF, _stepF, _inverseStep;

    private TokenQuantizer(Half[] lo, Half[] step, PrefixCode code)
    {
        _lo = lo;
        _step = step;
        Code = code;
        _loF = new float[lo.Length];
        _stepF = new float[lo.Length];
        _inverseStep = new float[lo.Length];
        for (int j = 0; j < lo.Length; j++)
        {
            _loF[j] = (float)lo[j];
            _stepF[j] = (float)step[j];
            _inverseStep[j] = 1f / _stepF[j];
        }
    }

    public int Dim => _lo.Length;
    public int Levels => Code.AlphabetSize;
    public PrefixCode Code { get; }

    /// <summary>Settings a spec string <c>tq:levels=L,clip=K</c> carries (the rest comes from calibration).</summary>
    public readonly record struct Settings(int Levels, double Clip)
    {
        public string Spec => string.Create(CultureInfo.InvariantCulture, $"{Name}:levels={Levels},clip={Clip:0.###}");

        public static bool IsTokenSpec(string spec) => CodecSpec.Parse(spec).Name == Name;

        public static Settings Parse(string spec)
        {
            var parsed = CodecSpec.Parse(spec);
            if (parsed.Name != Name) throw new ArgumentException($"'{spec}' is not a {Name} spec");
            int levels = parsed.GetInt("levels", 16, 2, PrefixCode.MaxAlphabet);
            string clipText = parsed.GetString("clip") ?? "4";
            if (!double.TryParse(clipText, NumberStyles.Float, CultureInfo.InvariantCulture, out double clip) || clip is <= 0 or > 64)
                throw new ArgumentException($"codec '{Name}': clip={clipText} must be a number in (0, 64] (standard deviations)");
            parsed.EnsureAllKeysUsed();
            return new Settings(levels, clip);
        }
    }

    /// <summary>
    /// Calibrates on <paramref name="samples"/> (rows of <paramref name="dim"/> values): channel j covers its mean ± clip
    /// standard deviations, and the prefix code is fitted to the level histogram of the samples themselves.
    /// </summary>
    public static TokenQuantizer Fit(ReadOnlySpan<float> samples, int dim, Settings settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dim, ushort.MaxValue);
        if (samples.Length == 0 || samples.Length % dim != 0)
            throw new ArgumentException($"calibration needs a positive multiple of {dim} values, not {samples.Length}", nameof(samples));
        int rows = samples.Length / dim;
        var sum = new double[dim];
        var sumSquares = new double[dim];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < dim; j++)
            {
                double v = samples[r * dim + j];
                if (!double.IsFinite(v)) continue;
                sum[j] += v;
                sumSquares[j] += v * v;
            }
        var mean = new double[dim];
        var std = new double[dim];
        for (int j = 0; j < dim; j++)
        {
            mean[j] = sum[j] / rows;
            std[j] = Math.Sqrt(Math.Max(0, sumSquares[j] / rows - mean[j] * mean[j]));
        }
        return FromStatistics(mean, std, settings, UniformCode(settings.Levels)).WithCodeFittedTo(samples);
    }

    /// <summary>
    /// The quantizer whose channel j covers <paramref name="mean"/>[j] ± clip·<paramref name="std"/>[j] (lo and step rounded
    /// to binary16), with <paramref name="code"/>. Deterministic, so a receiver that holds the same statistics (a model's
    /// token prediction table) derives the same quantizer without being sent lo and step.
    /// </summary>
    internal static TokenQuantizer FromStatistics(ReadOnlySpan<double> mean, ReadOnlySpan<double> std, Settings settings, PrefixCode code)
    {
        if (code.AlphabetSize != settings.Levels)
            throw new FrameFormatException(FrameError.BadParameters, $"a prefix code of {code.AlphabetSize} symbols for {settings.Levels} levels");
        int dim = mean.Length;
        var lo = new Half[dim];
        var step = new Half[dim];
        for (int j = 0; j < dim; j++)
        {
            double width = 2 * settings.Clip * std[j] / (settings.Levels - 1);
            step[j] = (Half)Math.Max(width, 1e-4);
            if (step[j] == Half.Zero || !Half.IsFinite(step[j])) step[j] = Half.IsFinite(step[j]) ? Half.Epsilon : Half.MaxValue;
            lo[j] = (Half)(mean[j] - (settings.Levels - 1) / 2.0 * (double)step[j]);
        }
        return new TokenQuantizer(lo, step, code);
    }

    /// <summary>The same quantizer with its prefix code fitted to the level histogram of <paramref name="samples"/> (rows of <see cref="Dim"/> values).</summary>
    internal TokenQuantizer WithCodeFittedTo(ReadOnlySpan<float> samples)
    {
        var counts = new long[Levels];
        for (int i = 0; i < samples.Length; i++) counts[Quantize(samples[i], i % Dim)]++;
        return new TokenQuantizer(_lo, _step, PrefixCode.FromCounts(counts));
    }

    internal TokenQuantizer WithCode(PrefixCode code) =>
        code.AlphabetSize == Levels ? new TokenQuantizer(_lo, _step, code)
            : throw new FrameFormatException(FrameError.BadParameters, $"a prefix code of {code.AlphabetSize} symbols for {Levels} levels");

    /// <summary>Every level the same length: the provisional code until one is fitted.</summary>
    internal static PrefixCode UniformCode(int levels)
    {
        var counts = new long[levels];
        counts.AsSpan().Fill(1);
        return PrefixCode.FromCounts(counts);
    }

    private int Quantize(float value, int channel)
    {
        if (float.IsNaN(value)) value = _loF[channel] + _stepF[channel] * ((Levels - 1) / 2);
        float q = MathF.Round((value - _loF[channel]) * _inverseStep[channel]);
        return q <= 0 ? 0 : q >= Levels - 1 ? Levels - 1 : (int)q;
    }

    /// <summary>Appends the codes of <paramref name="tokens"/> (a whole number of rows of <see cref="Dim"/> values), padded to a byte.</summary>
    public void Encode(ReadOnlySpan<float> tokens, List<byte> output)
    {
        if (tokens.Length == 0 || tokens.Length % Dim != 0)
            throw new ArgumentException($"tokens must hold a positive multiple of {Dim} values, not {tokens.Length}", nameof(tokens));
        var writer = new BitWriter(output);
        Encode(tokens, ref writer);
        writer.Flush();
    }

    /// <summary>Writes the codes of <paramref name="tokens"/> (rows of <see cref="Dim"/> values) to <paramref name="writer"/>, without padding.</summary>
    internal void Encode(scoped ReadOnlySpan<float> tokens, ref BitWriter writer)
    {
        for (int i = 0; i < tokens.Length; i++) Code.Write(ref writer, Quantize(tokens[i], i % Dim));
    }

    public byte[] Encode(ReadOnlySpan<float> tokens)
    {
        var output = new List<byte>(tokens.Length);
        Encode(tokens, output);
        return [.. output];
    }

    /// <summary>Decodes a payload of exactly <c>destination.Length / Dim</c> tokens; hostile bytes give <see cref="FrameFormatException"/>.</summary>
    public void Decode(ReadOnlySpan<byte> payload, Span<float> destination)
    {
        if (destination.Length == 0 || destination.Length % Dim != 0)
            throw new ArgumentException($"destination must hold a positive multiple of {Dim} values, not {destination.Length}", nameof(destination));
        var reader = new BitReader(payload);
        Decode(ref reader, destination);
        reader.EnsureOnlyPaddingLeft();
    }

    /// <summary>Reads <c>destination.Length</c> values (rows of <see cref="Dim"/>) from <paramref name="reader"/>.</summary>
    internal void Decode(ref BitReader reader, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            int j = i % Dim;
            destination[i] = _loF[j] + Code.Read(ref reader) * _stepF[j];
        }
    }

    /// <summary>The per-session state: version, d, L, the code lengths (4 bits each), then lo and step per channel (binary16).</summary>
    public byte[] SerializeState()
    {
        int lengthBytes = (Levels + 1) / 2;
        var state = new byte[5 + lengthBytes + 4 * Dim];
        state[0] = StateVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(state.AsSpan(1), (ushort)Dim);
        BinaryPrimitives.WriteUInt16LittleEndian(state.AsSpan(3), (ushort)Levels);
        for (int s = 0; s < Levels; s++)
            state[5 + s / 2] |= (byte)(s % 2 == 0 ? Code.LengthOf(s) << 4 : Code.LengthOf(s));
        int offset = 5 + lengthBytes;
        for (int j = 0; j < Dim; j++) BinaryPrimitives.WriteHalfLittleEndian(state.AsSpan(offset + 2 * j), _lo[j]);
        offset += 2 * Dim;
        for (int j = 0; j < Dim; j++) BinaryPrimitives.WriteHalfLittleEndian(state.AsSpan(offset + 2 * j), _step[j]);
        return state;
    }

    /// <summary>Parses state written by <see cref="SerializeState"/>, checking every field.</summary>
    public static TokenQuantizer ParseState(ReadOnlySpan<byte> state)
    {
        if (state.Length < 5) throw new FrameFormatException(FrameError.Truncated, $"token codec state of {state.Length} bytes is truncated");
        if (state[0] != StateVersion) throw new FrameFormatException(FrameError.UnsupportedVersion, $"token codec state version {state[0]} (expected {StateVersion})");
        int dim = BinaryPrimitives.ReadUInt16LittleEndian(state[1..]);
        int levels = BinaryPrimitives.ReadUInt16LittleEndian(state[3..]);
        if (dim < 1) throw new FrameFormatException(FrameError.BadShape, "token codec state has d = 0");
        if (levels is < 2 or > PrefixCode.MaxAlphabet) throw new FrameFormatException(FrameError.BadParameters, $"token codec state has {levels} levels (2..{PrefixCode.MaxAlphabet})");
        int lengthBytes = (levels + 1) / 2;
        int expected = 5 + lengthBytes + 4 * dim;
        if (state.Length != expected)
            throw new FrameFormatException(state.Length < expected ? FrameError.Truncated : FrameError.TrailingBytes,
                $"token codec state for d = {dim}, L = {levels} needs {expected} bytes, got {state.Length}");
        var lengths = new byte[levels];
        for (int s = 0; s < levels; s++) lengths[s] = (byte)(s % 2 == 0 ? state[5 + s / 2] >> 4 : state[5 + s / 2] & 15);
        if (levels % 2 == 1 && (state[5 + levels / 2] & 15) != 0) throw new FrameFormatException(FrameError.BadParameters, "token codec state: nonzero padding nibble");
        var code = PrefixCode.FromLengths(lengths);
        var lo = new Half[dim];
        var step = new Half[dim];
        int offset = 5 + lengthBytes;
        for (int j = 0; j < dim; j++)
        {
            lo[j] = BinaryPrimitives.ReadHalfLittleEndian(state[(offset + 2 * j)..]);
            step[j] = BinaryPrimitives.ReadHalfLittleEndian(state[(offset + 2 * dim + 2 * j)..]);
            if (!Half.IsFinite(lo[j]) || !Half.IsFinite(step[j]) || step[j] <= Half.Zero)
                throw new FrameFormatException(FrameError.BadParameters, $"token codec state: channel {j} has lo {lo[j]} and step {step[j]} (finite, step > 0 needed)");
        }
        return new TokenQuantizer(lo, step, code);
    }
}
