using System.Buffers.Binary;
using Cleave.Codecs;

namespace Cleave.Codecs.Tests.Token;

/// <summary>The token prediction table and the <c>tq:...,predict=token</c> codec: round trips, the hash check, hostile bytes.</summary>
public sealed class TokenPredictionTests
{
    private const int Dim = 16, Vocab = 24, Unseen = 23;
    private const string Spec = "tq:levels=7,clip=3.6,predict=token";

    /// <summary>Rows whose hidden state is the input token's own centre (spread 2) plus noise of std 0.1; token 23 never occurs.</summary>
    private static (float[] Hidden, int[] Tokens) Rows(int rows, int seed)
    {
        var centres = new Random(99);
        var centre = new double[Vocab * Dim];
        for (int i = 0; i < centre.Length; i++) centre[i] = 2 * Gaussian(centres);
        var random = new Random(seed);
        var tokens = new int[rows];
        var hidden = new float[rows * Dim];
        for (int r = 0; r < rows; r++)
        {
            tokens[r] = random.Next(Unseen);
            for (int j = 0; j < Dim; j++) hidden[r * Dim + j] = (float)(centre[tokens[r] * Dim + j] + 0.1 * Gaussian(random));
        }
        return (hidden, tokens);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static TokenPredictionTable Table(int seed = 1)
    {
        var (hidden, tokens) = Rows(4000, seed);
        return TokenPredictionTable.Fit(hidden, tokens, Vocab, Dim);
    }

    [Fact]
    public void Table_holds_per_token_means_falls_back_to_the_global_mean_and_round_trips_with_its_hash()
    {
        var (hidden, tokens) = Rows(4000, 1);
        var table = TokenPredictionTable.Fit(hidden, tokens, Vocab, Dim);
        int token = tokens[0];
        for (int j = 0; j < Dim; j++)
        {
            double sum = 0;
            int count = 0;
            for (int r = 0; r < tokens.Length; r++)
                if (tokens[r] == token) { sum += hidden[r * Dim + j]; count++; }
            Assert.Equal((float)(Half)(sum / count), table.Prediction(token)[j]);
        }
        Assert.Equal(table.Mean.ToArray(), table.Prediction(Unseen).ToArray());
        Assert.All(table.ResidualStd.ToArray(), s => Assert.InRange(s, 0.08f, 0.12f)); // the noise, not the spread of the centres
        Assert.All(table.Std.ToArray(), s => Assert.InRange(s, 1f, 4f));
        Assert.Equal(2 * Dim * (Vocab + 3) + TokenPredictionTable.HeaderBytes, table.Serialize().Length);

        var again = TokenPredictionTable.Parse(table.Serialize());
        Assert.Equal(table.Sha256, again.Sha256);
        Assert.Equal(table.Prediction(5).ToArray(), again.Prediction(5).ToArray());
        Assert.NotEqual(table.Sha256, Table(seed: 2).Sha256);
    }

    [Fact]
    public void Predicted_steps_round_trip_within_half_a_residual_step_fewer_bits_and_less_error_than_plain_ones()
    {
        var table = Table();
        var (calibrationHidden, calibrationTokens) = Rows(2000, 3);
        var sender = TokenStreamCodec.ForPredictingSender(Spec, table, calibrationHidden, calibrationTokens);
        var receiver = TokenStreamCodec.ForPredictingReceiver(sender.Spec, sender.SessionState, table);
        Assert.True(sender.PredictsFromInputToken);
        Assert.Equal("tq:levels=7,clip=3.6,predict=token,prompt_levels=24,prompt_clip=5", sender.Spec);
        Assert.True(sender.SessionState.Length < 48, $"{sender.SessionState.Length} B of session state: lo and step come from the table");

        var (hidden, tokens) = Rows(200, 4);
        long predictedBytes = 0, plainBytes = 0;
        double predictedError = 0, plainError = 0;
        var decoded = new float[Dim];
        for (int r = 0; r < tokens.Length; r++)
        {
            var row = hidden.AsSpan(r * Dim, Dim);
            byte[] predicted = sender.Encode(row, tokens[r]);
            byte[] plain = sender.Encode(row);
            Assert.True(receiver.ClaimsPrediction(predicted));
            Assert.False(receiver.ClaimsPrediction(plain));
            predictedBytes += predicted.Length;
            plainBytes += plain.Length;

            receiver.Decode(predicted, decoded, tokens[r]);
            int clipped = 0;
            for (int j = 0; j < Dim; j++)
            {
                // The residual's step: c = 2 x 3.6 / 6 = 1.2 residual stds; residuals beyond ±3 steps are clipped.
                float step = (float)(Half)(2 * 3.6 * table.ResidualStd[j] / 6);
                float residual = row[j] - table.Prediction(tokens[r])[j];
                if (Math.Abs(residual) > 3 * step) clipped++;
                else Assert.InRange(Math.Abs(decoded[j] - row[j]), 0, 0.505f * step + 1e-4f);
            }
            Assert.True(clipped <= 2, $"{clipped} of {Dim} residuals beyond the range");
            for (int j = 0; j < Dim; j++) predictedError += Math.Abs(decoded[j] - row[j]);
            // A plain payload decodes whether or not the receiver knows the token.
            float[] plainDecoded = receiver.Decode(plain, 1);
            Assert.Equal(plainDecoded, receiver.Decode(plain, 1, tokens[r]));
            for (int j = 0; j < Dim; j++) plainError += Math.Abs(plainDecoded[j] - row[j]);
        }
        Assert.True(predictedBytes < plainBytes, $"predicted {predictedBytes} B vs plain {plainBytes} B");
        Assert.True(predictedError * 4 < plainError, $"mean error predicted {predictedError / hidden.Length:F4} vs plain {plainError / hidden.Length:F4}");

        // The prompt: several tokens in one plain payload.
        byte[] prompt = sender.Encode(hidden.AsSpan(0, 5 * Dim));
        Assert.Equal(5 * Dim, receiver.Decode(prompt, 5).Length);
        Assert.Throws<ArgumentException>(() => sender.Encode(hidden.AsSpan(0, 2 * Dim), tokens[0]));
    }

    [Fact]
    public void A_predicted_payload_needs_the_input_token_and_the_same_table()
    {
        var table = Table();
        var (hidden, tokens) = Rows(500, 3);
        var sender = TokenStreamCodec.ForPredictingSender(Spec, table, hidden, tokens);
        byte[] predicted = sender.Encode(hidden.AsSpan(0, Dim), tokens[0]);
        var receiver = TokenStreamCodec.ForPredictingReceiver(sender.Spec, sender.SessionState, table);
        Assert.Equal(FrameError.BadParameters, Assert.Throws<FrameFormatException>(() => receiver.Decode(predicted, 1)).Error);

        var other = Assert.Throws<FrameFormatException>(() => TokenStreamCodec.ForPredictingReceiver(sender.Spec, sender.SessionState, Table(seed: 2)));
        Assert.Equal(FrameError.ChecksumMismatch, other.Error);
        // The plain factories refuse the spec instead of ignoring the table.
        Assert.Throws<ArgumentException>(() => TokenStreamCodec.ForReceiver(sender.Spec, sender.SessionState, Dim));
        Assert.Throws<ArgumentException>(() => TokenStreamCodec.ForSender(Spec, Dim, () => hidden));
        Assert.True(TokenStreamCodec.PredictsFromInputTokens(Spec));
        Assert.False(TokenStreamCodec.PredictsFromInputTokens("tq:levels=7,clip=3"));
    }

    [Fact]
    public void Hostile_session_state_and_payloads_give_typed_errors()
    {
        var table = Table();
        var (hidden, tokens) = Rows(500, 3);
        var sender = TokenStreamCodec.ForPredictingSender(Spec, table, hidden, tokens);
        byte[] state = sender.SessionState.ToArray();
        for (int length = 0; length < state.Length; length++)
            Assert.Throws<FrameFormatException>(() => TokenStreamCodec.ForPredictingReceiver(Spec, state.AsSpan(0, length), table));
        Assert.Throws<FrameFormatException>(() => TokenStreamCodec.ForPredictingReceiver(Spec, [.. state, 0], table));
        // The spec asks for other levels than the state's code describes.
        Assert.Throws<FrameFormatException>(() => TokenStreamCodec.ForPredictingReceiver("tq:levels=9,clip=3.6,predict=token", state, table));

        var receiver = TokenStreamCodec.ForPredictingReceiver(Spec, state, table);
        byte[] payload = sender.Encode(hidden.AsSpan(0, Dim), tokens[0]);
        for (int length = 0; length < payload.Length; length++)
            Assert.Throws<FrameFormatException>(() => receiver.Decode(payload.AsSpan(0, length), 1, tokens[0]));
        Assert.Throws<FrameFormatException>(() => receiver.Decode([.. payload, 0], 1, tokens[0]));
        // A hostile token count is refused by the size check before the [T, d] buffer exists.
        Assert.Throws<FrameFormatException>(() => receiver.Decode(payload, 1_000_000, tokens[0]));
    }

    [Fact]
    public void Hostile_tables_are_refused_by_size_before_anything_is_allocated()
    {
        byte[] bytes = Table().Serialize();
        Assert.Equal(FrameError.Truncated, Assert.Throws<FrameFormatException>(() => TokenPredictionTable.Parse(bytes.AsSpan(0, bytes.Length - 1))).Error);
        Assert.Equal(FrameError.Truncated, Assert.Throws<FrameFormatException>(() => TokenPredictionTable.Parse(bytes.AsSpan(0, 10))).Error);
        Assert.Equal(FrameError.TrailingBytes, Assert.Throws<FrameFormatException>(() => TokenPredictionTable.Parse([.. bytes, 0])).Error);

        byte[] magic = (byte[])bytes.Clone();
        magic[0] = (byte)'X';
        Assert.Equal(FrameError.BadMagic, Assert.Throws<FrameFormatException>(() => TokenPredictionTable.Parse(magic)).Error);

        // A header that claims 2^20 tokens of d = 65535 (128 GiB): refused from the header and the length alone.
        byte[] huge = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(huge.AsSpan(6), ushort.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(8), TokenPredictionTable.MaxVocab);
        Assert.Equal(2L * ushort.MaxValue * (TokenPredictionTable.MaxVocab + 3) + TokenPredictionTable.HeaderBytes, TokenPredictionTable.ExpectedLength(huge));
        Assert.Equal(FrameError.Truncated, Assert.Throws<FrameFormatException>(() => TokenPredictionTable.Parse(huge)).Error);
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(8), TokenPredictionTable.MaxVocab + 1);
        Assert.Equal(FrameError.BadShape, Assert.Throws<FrameFormatException>(() => TokenPredictionTable.ExpectedLength(huge)).Error);

        // A residual std of zero or a NaN mean.
        byte[] zeroStd = (byte[])bytes.Clone();
        BinaryPrimitives.WriteHalfLittleEndian(zeroStd.AsSpan(TokenPredictionTable.HeaderBytes + 2 * Dim * Vocab), Half.Zero);
        Assert.Equal(FrameError.BadParameters, Assert.Throws<FrameFormatException>(() => TokenPredictionTable.Parse(zeroStd)).Error);
        byte[] nan = (byte[])bytes.Clone();
        BinaryPrimitives.WriteHalfLittleEndian(nan.AsSpan(TokenPredictionTable.HeaderBytes), Half.NaN);
        Assert.Equal(FrameError.BadParameters, Assert.Throws<FrameFormatException>(() => TokenPredictionTable.Parse(nan)).Error);
    }
}
