using System.Security.Cryptography;
using Cleave.Codecs.IO;
using Cleave.Models.Text;

namespace Cleave.Models.Importers.Llama2c;

/// <summary>What <see cref="Llama2cImporter.Import"/> wrote.</summary>
public sealed record Llama2cImportResult(string Directory, string ModelPath, long ModelBytes, int NodeCount, LlamaModelConfig Config);

/// <summary>
/// Imports a llama2.c checkpoint and its tokenizer into a model folder: model.onnx (KV-cached, see
/// <see cref="Llama2cExport"/>), tokenizer.bin (a copy, checked to parse) and config.json; optionally the head/tail
/// halves for every split layer.
/// </summary>
public static class Llama2cImporter
{
    public static Llama2cImportResult Import(string checkpointPath, string tokenizerPath, string outputDirectory, bool writeSplits = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        ArgumentException.ThrowIfNullOrEmpty(tokenizerPath);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        var model = Llama2cCheckpoint.Load(checkpointPath);
        byte[] tokenizerBytes = File.ReadAllBytes(tokenizerPath);
        Llama2cTokenizer.Parse(tokenizerBytes, model.Config.VocabSize); // refuse a tokenizer that does not fit before writing anything

        string directory = Path.GetFullPath(outputDirectory);
        Directory.CreateDirectory(directory);
        var onnx = Llama2cExport.BuildFull(model);
        string modelPath = Path.Combine(directory, Llama2cExport.ModelFile);
        Llama2cExport.Write(onnx, modelPath);

        var splits = new List<int>();
        if (writeSplits)
            for (int k = 1; k < model.Config.Layers; k++)
            {
                Llama2cExport.WriteSplit(model, k, directory);
                splits.Add(k);
            }

        var config = LlamaModelConfig.From(model.Config, Path.GetFileName(checkpointPath), model.SourceSha256,
            Convert.ToHexStringLower(SHA256.HashData(tokenizerBytes)), [.. splits]);
        AtomicFile.WriteAllBytes(config.TokenizerPath(directory), tokenizerBytes);
        config.Save(directory); // last: a folder with config.json is complete
        return new Llama2cImportResult(directory, modelPath, new FileInfo(modelPath).Length, onnx.Graph.Node.Count, config);
    }
}
