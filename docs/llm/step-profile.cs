#:project ../../src/Cleave.Models/Cleave.Models.csproj
#:property TreatWarningsAsErrors=false
#:property PublishAot=false
// Where the per-token cost of split generation goes by position (docs/llm.md, "Why a step still grew with the position"):
// the same greedy run as step-cost.cs (stories260K cut at layer 2, one intra-op thread, BOS to position 420, REPS times),
// once with ONNX Runtime's profiler on the head and once on the tail. Prints, per operator type, the median time per step
// (summed over the step's nodes of that type) over positions 16..24 and 396..404 of repetitions 2..REPS. The profiler
// makes every node slower (a head step takes ~0.6 ms instead of ~0.05), so compare positions, not absolute times.
// usage: dotnet run docs/llm/step-profile.cs -- CHECKPOINT TOKENIZER [REPS]
using System.Reflection;
using System.Text.Json;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Microsoft.ML.OnnxRuntime;

// The same model, cut and positions as step-cost.cs, so that the two scripts' figures describe the same steps.
const int Split = 2, Last = 420;
int reps = args is [_, _, var count, ..] ? int.Parse(count, System.Globalization.CultureInfo.InvariantCulture) : 4;
string dir = Path.Combine(Path.GetTempPath(), "cleave-step-profile-" + Environment.ProcessId);
Llama2cImporter.Import(checkpointPath: args[0], tokenizerPath: args[1], outputDirectory: dir, writeSplits: true);
foreach (string stage in new[] { "head", "tail" })
{
    using var plain = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
    using var profiled = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, EnableProfiling = true, ProfileOutputPathPrefix = Path.Combine(dir, stage) };
    using var head = new KvCacheSession(Path.Combine(dir, Llama2cExport.HeadFile(Split)), stage == "head" ? profiled : plain);
    using var tail = new KvCacheSession(Path.Combine(dir, Llama2cExport.TailFile(Split)), stage == "tail" ? profiled : plain);
    for (int rep = 0; rep < reps; rep++)
    {
        head.Reset();
        tail.Reset();
        int token = Llama2cTokenizer.Bos;
        for (int p = 0; p <= Last; p++)
        {
            float[] logits = tail.Run(head.Run([token]));
            int next = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[next]) next = i;
            token = next;
        }
    }
    // KvCacheModel keeps its InferenceSession private; the profile is ended through it.
    var model = (stage == "head" ? head : tail).Model;
    var session = (InferenceSession)typeof(KvCacheModel).GetField("_session", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(model)!;
    using var profile = JsonDocument.Parse(File.ReadAllText(session.EndProfiling()));
    var runs = new List<(long Start, long End)>();
    var nodes = new List<(long Start, long Duration, string Op)>();
    foreach (var e in profile.RootElement.EnumerateArray())
    {
        string category = e.GetProperty("cat").GetString()!, name = e.GetProperty("name").GetString()!;
        long start = e.GetProperty("ts").GetInt64(), duration = e.GetProperty("dur").GetInt64();
        if (category == "Session" && name == "model_run") runs.Add((start, start + duration));
        else if (category == "Node" && name.EndsWith("_kernel_time", StringComparison.Ordinal))
            nodes.Add((start, duration, e.GetProperty("args").GetProperty("op_name").GetString()!));
    }
    runs.Sort();
    nodes.Sort((a, b) => a.Start.CompareTo(b.Start));
    var low = new Dictionary<string, List<double>>();
    var high = new Dictionary<string, List<double>>();
    int n = 0;
    for (int r = 0; r < runs.Count; r++)
    {
        int position = r % (Last + 1);
        var perOp = new Dictionary<string, double> { ["(model_run)"] = runs[r].End - runs[r].Start };
        while (n < nodes.Count && nodes[n].Start < runs[r].Start) n++;
        for (; n < nodes.Count && nodes[n].Start <= runs[r].End; n++)
        {
            perOp[nodes[n].Op] = perOp.GetValueOrDefault(nodes[n].Op) + nodes[n].Duration;
            perOp["(all nodes)"] = perOp.GetValueOrDefault("(all nodes)") + nodes[n].Duration;
        }
        var target = position is >= 16 and <= 24 ? low : position is >= 396 and <= 404 ? high : null;
        if (target is null || r <= Last) continue; // the first repetition warms up
        foreach (var (op, us) in perOp) (target.TryGetValue(op, out var list) ? list : target[op] = []).Add(us);
    }
    static double Median(List<double>? values) { if (values is null || values.Count == 0) return 0; var s = values.Order().ToArray(); return s[s.Length / 2]; }
    Console.WriteLine($"{stage} ({(stage == "head" ? "client" : "server")}), us per step, median: position ~20 / ~400");
    foreach (string op in high.Keys.Order(StringComparer.Ordinal))
        Console.WriteLine($"  {op,-22} {Median(low.GetValueOrDefault(op)),7:0} / {Median(high[op]),7:0}");
}
Directory.Delete(dir, recursive: true);
