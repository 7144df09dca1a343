using Cleave.Codecs;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The token prediction table of a split (<c>predict_k.bin</c> beside <c>head_k.onnx</c> and <c>tail_k.onnx</c>): fitted
/// once on the model's own self-generated text (never on evaluation text), read by the client and by the server, and
/// compared by hash when a session opens. Reading checks the header and the file's length before reading the rest.
/// </summary>
public static class TokenPredictionTableFile
{
    /// <summary>Self-generated rows a table is fitted on by default (about 16 per vocabulary token for stories260K).</summary>
    public const int DefaultTokens = 8192;
    /// <summary>Another seed than the codec calibration's (<see cref="TokenCodecCalibration.DefaultSeed"/>), so the prefix codes are fitted on text the table has not seen.</summary>
    public const ulong DefaultSeed = 11;

    public static string FileName(int splitLayer) => $"predict_{splitLayer}.bin";

    public static string PathOf(string modelDirectory, int splitLayer) => Path.Combine(modelDirectory, FileName(splitLayer));

    /// <summary>
    /// Reads a table; a missing file is a <see cref="FileNotFoundException"/> that says how to write one, a truncated,
    /// oversized or corrupt one a <see cref="FrameFormatException"/> (nothing larger than the header is read before the
    /// file's length matches what the header describes).
    /// </summary>
    public static TokenPredictionTable Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: write it with `cleave import <checkpoint.bin> --tokenizer ... -o DIR --splits --prediction-tokens N`", path);
        using var stream = File.OpenRead(path);
        var header = new byte[TokenPredictionTable.HeaderBytes];
        int read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        long expected = TokenPredictionTable.ExpectedLength(header.AsSpan(0, read));
        if (stream.Length != expected)
            throw new FrameFormatException(stream.Length < expected ? FrameError.Truncated : FrameError.TrailingBytes,
                $"{path}: a token prediction table of this shape has {expected} bytes, the file {stream.Length}");
        var bytes = new byte[expected];
        header.CopyTo(bytes, 0);
        stream.ReadExactly(bytes.AsSpan(header.Length));
        return TokenPredictionTable.Parse(bytes);
    }

    /// <summary>Fits the table of split layer <paramref name="splitLayer"/> on self-generated text and writes it (to a temporary file first, so a reader never sees half a table).</summary>
    public static TokenPredictionTable Write(LlamaModelFolder model, int splitLayer, int tokens = DefaultTokens, ulong seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(model);
        var rows = TokenCodecCalibration.SelfGeneratedRows(model, splitLayer, tokens, seed);
        var table = TokenPredictionTable.Fit(rows.Hidden, rows.InputTokens, model.Config.VocabSize, model.Config.Dim);
        string path = PathOf(model.Directory, splitLayer);
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, table.Serialize());
        File.Move(temporary, path, overwrite: true);
        return table;
    }

    /// <summary>
    /// The sender's codec for <paramref name="spec"/> at split layer <paramref name="splitLayer"/>: a <c>tq:...,predict=token</c>
    /// spec reads the split's table and fits its codes on <paramref name="calibration"/>'s rows; any other spec is
    /// <see cref="TokenStreamCodec.ForSender"/> (calibration asked for only by <c>tq</c>).
    /// </summary>
    public static TokenStreamCodec SenderCodec(string spec, LlamaModelFolder model, int splitLayer, Func<TokenCalibrationRows> calibration)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibration);
        if (!TokenStreamCodec.PredictsFromInputTokens(spec)) return TokenStreamCodec.ForSender(spec, model.Config.Dim, () => calibration().Hidden);
        var table = Read(PathOf(model.Directory, splitLayer));
        if (table.Dim != model.Config.Dim || table.Vocab != model.Config.VocabSize)
            throw new FrameFormatException(FrameError.BadShape, $"{FileName(splitLayer)} is for d = {table.Dim}, {table.Vocab} tokens; the model has d = {model.Config.Dim}, {model.Config.VocabSize} tokens");
        var rows = calibration();
        return TokenStreamCodec.ForPredictingSender(spec, table, rows.Hidden, rows.InputTokens);
    }
}
