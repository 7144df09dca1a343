using Cleave.Codecs;
using Cleave.Models;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Google.Protobuf;

namespace Cleave.Runtime.Tests.Generation;

/// <summary>A fact that needs the stories260K assets: skipped, with the reason shown, when they are absent.</summary>
public sealed class StoriesFactAttribute : FactAttribute
{
    public StoriesFactAttribute()
    {
        if (StoriesModel.AssetRoot is null) Skip = "shared assets not found (../shared/assets or CLEAVE_ASSETS)";
        else if (!File.Exists(Path.Combine(StoriesModel.AssetRoot, "llm", "stories260K.bin"))) Skip = "llm/stories260K.bin is missing from the shared assets";
    }
}

/// <summary>stories260K imported once per test run (with every split), plus helpers to drive a server by hand.</summary>
internal static class StoriesModel
{
    public static string? AssetRoot { get; } = TryResolve();

    private static readonly Lazy<LlamaModelFolder> Folder = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cleave-llm-tests-{Environment.ProcessId}");
        if (!File.Exists(Path.Combine(dir, LlamaModelConfig.FileName)))
            Llama2cImporter.Import(Path.Combine(AssetRoot!, "llm", "stories260K.bin"), Path.Combine(AssetRoot!, "llm", "tok512.bin"), dir, writeSplits: true);
        return LlamaModelFolder.Open(dir);
    });

    public static LlamaModelFolder Model => Folder.Value;

    public static GenerationOptions Options(int splitLayer) => new() { ModelDirectory = Model.Directory, SplitLayer = splitLayer };

    /// <summary>The client half, one intra-op thread (many concurrent sessions share it; spinning pool threads would starve the server).</summary>
    public static KvCacheModel Head(int splitLayer)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        return new KvCacheModel(Path.Combine(Model.Directory, Llama2cExport.HeadFile(splitLayer)), options);
    }

    /// <summary>The whole model's greedy continuation (the reference every split run must equal).</summary>
    public static int[] LocalGreedy(int[] prompt, int maxNewTokens)
    {
        using var session = Model.CreateSession();
        return session.GenerateGreedy(prompt, maxNewTokens);
    }

    public static OpenSessionRequest Open(int splitLayer, string codec = "raw") =>
        new() { ModelSha256 = Model.Config.SourceSha256, SplitLayer = (uint)splitLayer, Codec = codec };

    /// <summary>Runs tokens through a client-side head cache and encodes them as one raw step payload.</summary>
    public static HistoryChunk RawChunk(KvCacheSession head, int[] tokens)
    {
        float[] hidden = head.Run(tokens);
        var codec = TokenStreamCodec.ForReceiver("raw", [], head.OutputWidth);
        return new HistoryChunk { Tokens = (uint)tokens.Length, Payload = ByteString.CopyFrom(FeatureCodecs.Create("raw").Encode(hidden, new TensorShape(tokens.Length, codec.Dim))) };
    }

    public static StepRequest Step(string session, uint position, HistoryChunk chunk) =>
        new() { SessionId = session, Position = position, Tokens = chunk.Tokens, Payload = chunk.Payload };

    private static string? TryResolve()
    {
        try { return AssetLocator.Resolve(); }
        catch (DirectoryNotFoundException) { return null; }
    }
}
