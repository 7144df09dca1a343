using Cleave.Codecs;
using Cleave.Codecs.Npy;
using Cleave.Models.Importers.Llama2c;

using Cleave.Models.Text;

namespace Cleave.Models.Features;

/// <summary>
/// Writes the hidden state that crosses a language model's cut at split layer k (the residual stream after k layers)
/// for each document of a text, teacher-forced, so codecs can be studied on real per-token features.
/// </summary>
public static class HiddenStateDump
{
    /// <returns>The .npy files written, one [T, dim] tensor per document.</returns>
    public static IReadOnlyList<string> Write(LlamaModelFolder model, int splitLayer, IReadOnlyList<string> documents,
        string outputDirectory, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(documents);
        if (splitLayer < 1 || splitLayer >= model.Config.Layers)
            throw new ArgumentOutOfRangeException(nameof(splitLayer), splitLayer, $"split layer must be 1..{model.Config.Layers - 1}");
        string head = Path.Combine(model.Directory, Llama2cExport.HeadFile(splitLayer));
        if (!File.Exists(head))
            throw new FileNotFoundException($"{head} is missing: import the checkpoint with --splits to write the split halves", head);

        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        using var session = new KvCacheSession(head);
        for (int d = 0; d < documents.Count; d++)
        {
            progress?.Invoke(d);
            int[] tokens = model.Tokenizer.Encode(documents[d], bos: true);
            if (tokens.Length > model.Config.SeqLen) tokens = tokens[..model.Config.SeqLen];
            session.Reset();
            float[] hidden = session.Run(tokens);
            string path = Path.Combine(outputDirectory, $"doc{d:D4}_layer{splitLayer}.npy");
            NpyFile.WriteFloat32(path, hidden, new TensorShape(tokens.Length, session.OutputWidth));
            written.Add(path);
        }
        return written;
    }
}
