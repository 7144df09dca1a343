using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cleave.Codecs;

/// <summary>
/// Model-level data for predicting a language model's hidden state at the cut from the step's input token: for each
/// vocabulary token, the mean of the hidden states it produced on calibration text (the global mean for tokens never
/// seen), and per channel the residual's standard deviation around those means and the hidden state's own mean and
/// standard deviation. It belongs to a split (one per split layer, beside its halves), never to a session: at 64 KB for
/// 512 tokens x d = 64 it would cost more than the payloads it saves if it were sent per session. Both sides check its
/// <see cref="Sha256"/> when a session opens. Layout in docs/format.md ("Token prediction table").
/// </summary>
public sealed class TokenPredictionTable
{
    public const byte Version = 1;
    public const int HeaderBytes = 16;
    /// <summary>Largest vocabulary a table may describe (a hostile header cannot ask for more).</summary>
    public const int MaxVocab = 1 << 20;
    private static ReadOnlySpan<byte> Magic => "CLTP"u8;

    private readonly float[] _means, _residualStd, _mean, _std;

    private TokenPredictionTable(int vocab, int dim, int calibrationTokens, float[] means, float[] residualStd, float[] mean, float[] std, byte[] sha256)
    {
        Vocab = vocab;
        Dim = dim;
        CalibrationTokens = calibrationTokens;
        _means = means;
        _residualStd = residualStd;
        _mean = mean;
        _std = std;
        Sha256 = sha256;
    }

    public int Vocab { get; }
    public int Dim { get; }

    /// <summary>Rows the table was fitted on.</summary>
    public int CalibrationTokens { get; }

    /// <summary>SHA-256 of the serialized table (<see cref="Serialize"/>): what a session's codec state names.</summary>
    public byte[] Sha256 { get; }

    /// <summary>The predicted hidden state of a step whose input token is <paramref name="token"/> (binary16 values as floats).</summary>
    public ReadOnlySpan<float> Prediction(int token)
    {
        if ((uint)token >= (uint)Vocab) throw new ArgumentOutOfRangeException(nameof(token), token, $"token outside 0..{Vocab - 1}");
        return _means.AsSpan(token * Dim, Dim);
    }

    public ReadOnlySpan<float> ResidualStd => _residualStd;
    public ReadOnlySpan<float> Mean => _mean;
    public ReadOnlySpan<float> Std => _std;

    /// <summary>
    /// Fits a table on <paramref name="hidden"/> (rows of <paramref name="dim"/> values) and the input token of each row.
    /// Residual statistics are taken around the binary16-rounded means, which is what both sides predict with.
    /// </summary>
    public static TokenPredictionTable Fit(ReadOnlySpan<float> hidden, ReadOnlySpan<int> inputTokens, int vocab, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dim, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocab, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vocab, MaxVocab);
        if (inputTokens.Length == 0 || hidden.Length != (long)inputTokens.Length * dim)
            throw new ArgumentException($"{inputTokens.Length} tokens need {(long)inputTokens.Length * dim} hidden values, got {hidden.Length}", nameof(hidden));
        int rows = inputTokens.Length;
        var sum = new double[(long)vocab * dim];
        var count = new int[vocab];
        var globalSum = new double[dim];
        for (int r = 0; r < rows; r++)
        {
            int token = inputTokens[r];
            if ((uint)token >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(inputTokens), token, $"token outside 0..{vocab - 1}");
            count[token]++;
            for (int j = 0; j < dim; j++)
            {
                sum[(long)token * dim + j] += hidden[r * dim + j];
                globalSum[j] += hidden[r * dim + j];
            }
        }
        var mean = new float[dim];
        for (int j = 0; j < dim; j++) mean[j] = RoundHalf(globalSum[j] / rows);
        var means = new float[checked(vocab * dim)];
        for (int t = 0; t < vocab; t++)
            for (int j = 0; j < dim; j++)
                means[t * dim + j] = count[t] == 0 ? mean[j] : RoundHalf(sum[(long)t * dim + j] / count[t]);
        var residual = new double[dim];
        var spread = new double[dim];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < dim; j++)
            {
                double v = hidden[r * dim + j];
                residual[j] += Math.Pow(v - means[inputTokens[r] * dim + j], 2);
                spread[j] += Math.Pow(v - mean[j], 2);
            }
        var residualStd = new float[dim];
        var std = new float[dim];
        for (int j = 0; j < dim; j++)
        {
            // A channel that never varies still needs a positive step.
            residualStd[j] = Math.Max(RoundHalf(Math.Sqrt(residual[j] / rows)), 1e-3f);
            std[j] = Math.Max(RoundHalf(Math.Sqrt(spread[j] / rows)), 1e-3f);
        }
        var unhashed = new TokenPredictionTable(vocab, dim, rows, means, residualStd, mean, std, []);
        return Parse(unhashed.Serialize());
    }

    private static float[] ReadHalves(ReadOnlySpan<byte> bytes, ref int offset, int count, bool positive, string what)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++, offset += 2)
        {
            var h = BinaryPrimitives.ReadHalfLittleEndian(bytes[offset..]);
            if (!Half.IsFinite(h) || (positive && h <= Half.Zero))
                throw new FrameFormatException(FrameError.BadParameters, $"token prediction table: {what} value {i} is {h}");
            values[i] = (float)h;
        }
        return values;
    }

    private static float RoundHalf(double value) => (float)(Half)value;

    /// <summary>Magic "CLTP", version, a zero byte, d (u16), vocab (u32), calibration rows (u32), then binary16 values:
    /// the means (vocab x d), the residual std (d), the mean (d) and the std (d).</summary>
    public byte[] Serialize()
    {
        var bytes = new byte[HeaderBytes + 2L * Dim * (Vocab + 3)];
        Magic.CopyTo(bytes);
        bytes[4] = Version;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)Dim);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)Vocab);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)CalibrationTokens);
        int offset = HeaderBytes;
        foreach (var values in new[] { _means, _residualStd, _mean, _std })
            foreach (float v in values)
            {
                BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(offset), (Half)v);
                offset += 2;
            }
        return bytes;
    }

    /// <summary>
    /// The length a table with this <paramref name="header"/> (its first <see cref="HeaderBytes"/> bytes) must have, so a
    /// reader can refuse a truncated or oversized file before reading or allocating anything else.
    /// </summary>
    public static long ExpectedLength(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderBytes) throw new FrameFormatException(FrameError.Truncated, $"a token prediction table of {header.Length} bytes has no {HeaderBytes}-byte header");
        if (!header[..4].SequenceEqual(Magic)) throw new FrameFormatException(FrameError.BadMagic, "not a token prediction table (magic CLTP)");
        if (header[4] != Version) throw new FrameFormatException(FrameError.UnsupportedVersion, $"token prediction table version {header[4]} (expected {Version})");
        if (header[5] != 0) throw new FrameFormatException(FrameError.BadParameters, "token prediction table: reserved byte is not zero");
        int dim = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        uint vocab = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (dim < 1) throw new FrameFormatException(FrameError.BadShape, "token prediction table with d = 0");
        if (vocab is < 1 or > MaxVocab) throw new FrameFormatException(FrameError.BadShape, $"token prediction table with {vocab} tokens (1..{MaxVocab})");
        return HeaderBytes + 2L * dim * (vocab + 3);
    }

    /// <summary>Parses a table written by <see cref="Serialize"/>: sizes are checked before anything is allocated, values must be finite and the stds positive.</summary>
    public static TokenPredictionTable Parse(ReadOnlySpan<byte> bytes)
    {
        long expected = ExpectedLength(bytes);
        if (bytes.Length != expected)
            throw new FrameFormatException(bytes.Length < expected ? FrameError.Truncated : FrameError.TrailingBytes,
                $"token prediction table needs {expected} bytes, got {bytes.Length}");
        int dim = BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]);
        int vocab = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        uint rows = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        if (rows is < 1 or > int.MaxValue) throw new FrameFormatException(FrameError.BadParameters, $"token prediction table fitted on {rows} rows");
        int offset = HeaderBytes;
        var means = ReadHalves(bytes, ref offset, vocab * dim, false, "mean");
        var residualStd = ReadHalves(bytes, ref offset, dim, true, "residual std");
        var mean = ReadHalves(bytes, ref offset, dim, false, "global mean");
        var std = ReadHalves(bytes, ref offset, dim, true, "std");
        return new TokenPredictionTable(vocab, dim, (int)rows, means, residualStd, mean, std, SHA256.HashData(bytes));
    }
}
