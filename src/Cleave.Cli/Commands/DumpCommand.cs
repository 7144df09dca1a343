using Cleave.Cli.Infrastructure;
using Cleave.Models.Text;

namespace Cleave.Cli.Commands;

public sealed class DumpCommand : ICommand
{
    public string Name => "dump";
    public string Summary => "write the feature tensors that cross a cut, as .npy, to study codecs on real features";
    public string Usage => """
        usage: cleave dump <model-dir> --layer K --text FILE -o DIR [--limit N] [--json]
          <model-dir>   a language-model folder from `cleave import <checkpoint.bin> --splits`
          --layer K     split layer: the hidden state after K transformer layers (1 .. layers-1)
          --text FILE   documents separated by <|endoftext|> lines; each gives one [tokens, dim] tensor
          --limit N     only the first N documents
          -o, --output  folder for the .npy files
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["layer", "text", "output", "limit"], ["json"]);
        string modelDir = cl.PositionalAt(0, "model folder");
        int layer = cl.GetInt("layer", -1);
        if (layer < 0) throw new UsageException("missing required option --layer");
        string textFile = cl.Require("text");
        string output = cl.Require("output");
        int limit = cl.GetInt("limit", int.MaxValue);
        if (limit <= 0) throw new UsageException("--limit must be positive");

        var model = LlamaModelFolder.Open(modelDir);
        var documents = TextDocuments.Split(File.ReadAllText(textFile)).Take(limit).ToList();
        if (documents.Count == 0) throw new ArgumentException($"{textFile} holds no documents");
        IReadOnlyList<string> files;
        using (var progress = new Progress("dump", documents.Count))
            files = HiddenStateDump.Write(model, layer, documents, output, d => progress.Report(d, $"document {d + 1}"));

        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("layer", layer);
                w.WriteStartArray("files");
                foreach (string f in files) w.WriteStringValue(f);
                w.WriteEndArray();
                w.WriteEndObject();
            });
        else
            Console.WriteLine($"wrote {files.Count} tensors (hidden state after layer {layer}) to {output}");
        return 0;
    }
}
