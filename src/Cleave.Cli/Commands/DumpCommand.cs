using Cleave.Cli.Infrastructure;
using Cleave.Models.Features;
using Cleave.Models.Text;

namespace Cleave.Cli.Commands;

public sealed class DumpCommand : ICommand
{
    private static readonly string[] ImageExtensions = [".jpeg", ".jpg", ".png", ".bmp", ".webp"];

    public string Name => "dump";
    public string Summary => "write the feature tensors that cross a cut, as .npy, to study codecs on real features";
    public string Usage => """
        usage: cleave dump <model.onnx> --at T[,T2...] --images DIR -o DIR [--limit N] [--json]
               cleave dump <model-dir> --layer K --text FILE -o DIR [--limit N] [--json]
          image models (preprocessing from the model's metadata, as `cleave import` records it):
            --at T        split point (a tensor, or several for a cross-branch cut; see `cleave inspect`)
            --images DIR  image folder (.jpeg .jpg .png .bmp .webp), taken in name order
          language models (a folder from `cleave import <checkpoint.bin> --splits`):
            --layer K     the hidden state after K transformer layers (1 .. layers-1)
            --text FILE   documents separated by <|endoftext|> lines; each gives one [tokens, dim] tensor
          --limit N       only the first N images or documents
          -o, --output    folder for the .npy files
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["at", "images", "layer", "text", "output", "limit"], ["json"]);
        string model = cl.PositionalAt(0, "model (an .onnx file or a language-model folder)");
        string output = cl.Require("output");
        int limit = cl.GetInt("limit", int.MaxValue);
        if (limit <= 0) throw new UsageException("--limit must be positive");

        IReadOnlyList<string> files;
        string what;
        if (Directory.Exists(model))
        {
            if (cl.Has("at") || cl.Has("images")) throw new UsageException("--at and --images are for .onnx image models; a model folder takes --layer and --text");
            int layer = cl.GetInt("layer", -1);
            if (layer < 0) throw new UsageException("missing required option --layer");
            string textFile = cl.Require("text");
            var lm = LlamaModelFolder.Open(model);
            var documents = TextDocuments.Split(File.ReadAllText(textFile)).Take(limit).ToList();
            if (documents.Count == 0) throw new ArgumentException($"{textFile} holds no documents");
            using (var progress = new Progress("dump", documents.Count))
                files = HiddenStateDump.Write(lm, layer, documents, output, d => progress.Report(d, $"document {d + 1}"));
            what = $"hidden state after layer {layer}";
        }
        else
        {
            if (cl.Has("layer") || cl.Has("text")) throw new UsageException("--layer and --text are for language-model folders; an .onnx model takes --at and --images");
            var cut = cl.Require("at").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string folder = cl.Require("images");
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' does not exist");
            var images = Directory.EnumerateFiles(folder)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal).Take(limit).ToList();
            if (images.Count == 0) throw new ArgumentException($"'{folder}' holds no images ({string.Join(" ", ImageExtensions)})");
            using (var progress = new Progress("dump", images.Count))
                files = ImageFeatureDump.Write(model, cut, images, output, progress: i => progress.Report(i, Path.GetFileName(images[i])));
            what = $"feature at {string.Join(",", cut)}";
        }

        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("what", what);
                w.WriteStartArray("files");
                foreach (string f in files) w.WriteStringValue(f);
                w.WriteEndArray();
                w.WriteEndObject();
            });
        else
            Console.WriteLine($"wrote {files.Count} tensors ({what}) to {output}");
        return 0;
    }
}
