using Cleave.Codecs;

namespace Cleave.Codecs.Tests.Token;

public sealed class TokenQuantizerTests
{
    private const int Dim = 64;

    /// <summary>Rows of Dim values: channel j ~ N(j / 8 - 4, (1 + j % 5)^2), optionally a few 20x outliers.</summary>
    private static float[] Samples(int rows, int seed, bool outliers = true)
    {
        var random = new Random(seed);
        var values = new float[rows * Dim];
        for (int i = 0; i < values.Length; i++)
        {
            int j = i % Dim;
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            values[i] = (float)(j / 8.0 - 4 + (1 + j % 5) * gaussian * (outliers && random.Next(200) == 0 ? 20 : 1));
        }
        return values;
    }

    [Fact]
    public void Prefix_code_round_trips_and_respects_the_length_limit()
    {
        long[] fibonacci = new long[40];
        fibonacci[0] = fibonacci[1] = 1;
        for (int i = 2; i < fibonacci.Length; i++) fibonacci[i] = fibonacci[i - 1] + fibonacci[i - 2];
        var code = PrefixCode.FromCounts(fibonacci);
        Assert.All(code.Lengths.ToArray(), l => Assert.InRange(l, 1, PrefixCode.MaxLength));
        Assert.True(code.LengthOf(39) < code.LengthOf(0), "frequent symbols get shorter codes");

        var random = new Random(3);
        int[] symbols = [.. Enumerable.Range(0, 1000).Select(_ => random.Next(40))];
        var bytes = new List<byte>();
        var writer = new BitWriter(bytes);
        foreach (int s in symbols) code.Write(ref writer, s);
        writer.Flush();
        var reader = new BitReader([.. bytes]);
        foreach (int s in symbols) Assert.Equal(s, code.Read(ref reader));
        reader.EnsureOnlyPaddingLeft();

        var rebuilt = PrefixCode.FromLengths(code.Lengths);
        Assert.Equal(code.Lengths.ToArray(), rebuilt.Lengths.ToArray());
        Assert.Throws<FrameFormatException>(() => PrefixCode.FromLengths([1, 2, 2, 2])); // over-full
        Assert.Throws<FrameFormatException>(() => PrefixCode.FromLengths([2, 2, 2]));    // incomplete
    }

    [Fact]
    public void Values_come_back_within_half_a_step_inside_the_range_and_the_state_round_trips()
    {
        var settings = TokenQuantizer.Settings.Parse("tq:levels=16,clip=4");
        var quantizer = TokenQuantizer.Fit(Samples(4000, 1, outliers: false), Dim, settings);
        var test = Samples(40, 2, outliers: false);
        byte[] payload = quantizer.Encode(test);
        var decoded = new float[test.Length];
        quantizer.Decode(payload, decoded);

        var state = quantizer.SerializeState();
        Assert.Equal(5 + 8 + 4 * Dim, state.Length);
        var receiver = TokenQuantizer.ParseState(state);
        var again = new float[test.Length];
        receiver.Decode(payload, again);
        Assert.Equal(decoded, again);
        Assert.Equal(payload, receiver.Encode(test));

        int inside = 0;
        for (int i = 0; i < test.Length; i++)
        {
            int j = i % Dim;
            double std = 1 + j % 5, mean = j / 8.0 - 4, step = 8 * std / 15;
            if (Math.Abs(test[i] - mean) < 3.5 * std)
            {
                inside++;
                Assert.True(Math.Abs(decoded[i] - test[i]) <= step / 2 * 1.1 + 1e-2, $"value {test[i]} came back as {decoded[i]} (channel {j})");
            }
        }
        Assert.True(inside > test.Length * 9 / 10);
        Assert.True(payload.Length * 8.0 / 40 < 4 * Dim, "the prefix code beats 4 fixed bits per value");
    }

    [Fact]
    public void Hostile_state_and_payloads_are_refused_with_frame_errors()
    {
        var quantizer = TokenQuantizer.Fit(Samples(100, 4), Dim, new TokenQuantizer.Settings(8, 3));
        var state = quantizer.SerializeState();
        Assert.Equal(FrameError.Truncated, Assert.Throws<FrameFormatException>(() => TokenQuantizer.ParseState(state.AsSpan(0, state.Length - 1))).Error);
        Assert.Equal(FrameError.TrailingBytes, Assert.Throws<FrameFormatException>(() => TokenQuantizer.ParseState([.. state, 0])).Error);
        var badVersion = (byte[])state.Clone();
        badVersion[0] = 9;
        Assert.Equal(FrameError.UnsupportedVersion, Assert.Throws<FrameFormatException>(() => TokenQuantizer.ParseState(badVersion)).Error);
        var badLengths = (byte[])state.Clone();
        badLengths[5] = 0x11; // two codes of length 1 leave no room for the rest
        Assert.Throws<FrameFormatException>(() => TokenQuantizer.ParseState(badLengths));
        var badStep = (byte[])state.Clone();
        badStep[^1] = 0xFC; // step of the last channel becomes -Inf / NaN
        Assert.Equal(FrameError.BadParameters, Assert.Throws<FrameFormatException>(() => TokenQuantizer.ParseState(badStep)).Error);

        byte[] payload = quantizer.Encode(Samples(1, 5));
        var destination = new float[Dim];
        Assert.Equal(FrameError.TrailingBytes, Assert.Throws<FrameFormatException>(() => quantizer.Decode([.. payload, 0], destination)).Error);
        Assert.Equal(FrameError.Truncated, Assert.Throws<FrameFormatException>(() => quantizer.Decode(payload.AsSpan(0, payload.Length / 2), destination)).Error);
        Assert.Throws<FrameFormatException>(() => quantizer.Decode(payload, new float[2 * Dim]));
    }

    [Fact]
    public void Stream_codecs_carry_frames_or_session_state()
    {
        var raw = TokenStreamCodec.ForSender("raw", Dim, () => throw new InvalidOperationException("frame codecs need no calibration"));
        Assert.True(raw.SessionState.IsEmpty);
        var values = Samples(3, 6);
        Assert.Equal(values, TokenStreamCodec.ForReceiver("raw", [], Dim).Decode(raw.Encode(values), 3));
        Assert.Throws<FrameFormatException>(() => TokenStreamCodec.ForReceiver("raw", [], Dim).Decode(raw.Encode(values), 2));
        Assert.Throws<FrameFormatException>(() => TokenStreamCodec.ForReceiver("raw", [1], Dim));

        var tq = TokenStreamCodec.ForSender("tq:levels=12,clip=3", Dim, () => Samples(200, 7));
        Assert.Equal("tq:levels=12,clip=3", tq.Spec);
        var receiver = TokenStreamCodec.ForReceiver(tq.Spec, tq.SessionState, Dim);
        Assert.Equal(3 * Dim, receiver.Decode(tq.Encode(values), 3).Length);
        Assert.Throws<FrameFormatException>(() => TokenStreamCodec.ForReceiver(tq.Spec, tq.SessionState, 32));
        Assert.Throws<ArgumentException>(() => TokenQuantizer.Settings.Parse("tq:levels=1"));
        Assert.Throws<ArgumentException>(() => TokenQuantizer.Settings.Parse("tq:levels=8,clip=0"));
        Assert.Throws<ArgumentException>(() => TokenQuantizer.Settings.Parse("tq:levels=8,bits=3"));
    }
}
