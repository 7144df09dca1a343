#:project ../../src/Cleave.Models/Cleave.Models.csproj
#:property TreatWarningsAsErrors=false
#:property PublishAot=false
// Per-token cost of split generation by position (docs/llm.md, "Steps in constant time"): stories260K cut at layer 2,
// the head (the client's stage) and the tail (the server's stage) run back to back in this process with one intra-op
// thread each, greedy from BOS to position 420, REPS times. Prints the median time of a head step and of a tail step
// over positions 16..24 and 396..404 (every repetition), the bytes the last step at each position copied (where the
// build counts them), and a hash of the greedy tokens, so two builds can be compared token for token.
// usage: dotnet run docs/llm/step-cost.cs -- CHECKPOINT TOKENIZER [REPS]
using System.Diagnostics;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Microsoft.ML.OnnxRuntime;

string checkpoint = args[0], tokenizer = args[1];
int reps = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 7;
const int Split = 2, Last = 420;
int[] low = [.. Enumerable.Range(16, 9)], high = [.. Enumerable.Range(396, 9)];
string dir = Path.Combine(Path.GetTempPath(), "cleave-step-cost-" + Environment.ProcessId);
Llama2cImporter.Import(checkpoint, tokenizer, dir, writeSplits: true);
using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
using var head = new KvCacheSession(Path.Combine(dir, Llama2cExport.HeadFile(Split)), options);
using var tail = new KvCacheSession(Path.Combine(dir, Llama2cExport.TailFile(Split)), options);
var copied = typeof(KvCacheSession).GetProperty("LastRunCopiedBytes");
var headMs = new List<double>[Last + 1];
var tailMs = new List<double>[Last + 1];
for (int p = 0; p <= Last; p++) (headMs[p], tailMs[p]) = (new(), new());
var bytes = new Dictionary<int, string>();
ulong hash = 14695981039346656037UL;
for (int rep = 0; rep < reps; rep++)
{
    head.Reset();
    tail.Reset();
    int token = Llama2cTokenizer.Bos;
    hash = 14695981039346656037UL;
    for (int p = 0; p <= Last; p++)
    {
        long t0 = Stopwatch.GetTimestamp();
        float[] hidden = head.Run([token]);
        long t1 = Stopwatch.GetTimestamp();
        float[] logits = tail.Run(hidden);
        long t2 = Stopwatch.GetTimestamp();
        headMs[p].Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
        tailMs[p].Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
        if (rep == 0 && copied is not null && (p == 20 || p == 400))
            bytes[p] = $"head {copied.GetValue(head)} B, tail {copied.GetValue(tail)} B";
        int next = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[next]) next = i;
        hash = (hash ^ (ulong)next) * 1099511628211UL;
        token = next;
    }
}
double Median(IEnumerable<double> values) { var s = values.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }
double headLow = Median(low.SelectMany(p => headMs[p])), headHigh = Median(high.SelectMany(p => headMs[p]));
double tailLow = Median(low.SelectMany(p => tailMs[p])), tailHigh = Median(high.SelectMany(p => tailMs[p]));
Console.WriteLine($"head (client) ms/step: position ~20 {headLow:0.000}, ~400 {headHigh:0.000}, ratio {headHigh / headLow:0.00}");
Console.WriteLine($"tail (server) ms/step: position ~20 {tailLow:0.000}, ~400 {tailHigh:0.000}, ratio {tailHigh / tailLow:0.00}");
Console.WriteLine(copied is null ? "copied bytes per step: not counted by this build"
    : $"copied bytes, step at position 20: {bytes[20]}; at 400: {bytes[400]}");
Console.WriteLine($"greedy tokens 1..{Last + 1} from BOS (no stop): FNV-1a {hash:x16}, {reps} repetitions");
Directory.Delete(dir, recursive: true);
