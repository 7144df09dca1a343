using System.Globalization;

namespace Cleave.Runtime.Serving;

/// <summary>
/// How the server runs a model on this machine: <see cref="Streams"/> ONNX Runtime sessions working side by side (each
/// with its own batcher thread), <see cref="Threads"/> intra-op threads in each, and batches of up to
/// <see cref="MaxBatch"/> requests closed <see cref="MaxDelay"/> after their first. On small CPUs parallel sessions, not
/// bigger batches, are what uses the cores (docs/serving.md, "Execution plans"). Written and parsed as
/// <c>streams=2,threads=1,batch=4,delay-ms=2</c>; keys left out keep the defaults below.
/// </summary>
public sealed record ExecutionPlan
{
    public const int MaxStreams = 64;
    public const int MaxThreads = 256;
    public const int MaxBatchLimit = 1024;
    public const double MaxDelayMs = 1000;

    /// <summary>ONNX Runtime sessions, each run by its own batcher thread, all taking from the one bounded queue.</summary>
    public int Streams { get; init; } = 1;

    /// <summary>Intra-op threads per session; 0 = ONNX Runtime's default (one per core).</summary>
    public int Threads { get; init; }

    /// <summary>Most requests one model run takes (1: no batching).</summary>
    public int MaxBatch { get; init; } = 8;

    /// <summary>Longest a batch waits for more requests after its first.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Throws <see cref="ExecutionPlanException"/> when a field is out of range (plans built in code).</summary>
    public void Validate()
    {
        Range("streams", Streams, 1, MaxStreams);
        Range("threads", Threads, 0, MaxThreads);
        Range("batch", MaxBatch, 1, MaxBatchLimit);
        if (!(MaxDelay.TotalMilliseconds is >= 0 and <= MaxDelayMs))
            throw new ExecutionPlanException(ExecutionPlanError.OutOfRange, $"delay-ms must be between 0 and {MaxDelayMs}, got {MaxDelay.TotalMilliseconds}");
    }

    private static void Range(string key, int value, int min, int max)
    {
        if (value < min || value > max)
            throw new ExecutionPlanException(ExecutionPlanError.OutOfRange, $"{key} must be between {min} and {max}, got {value}");
    }

    /// <summary>Parses <c>streams=S,threads=T,batch=B,delay-ms=D</c> (any subset, any order).</summary>
    public static ExecutionPlan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
            throw new ExecutionPlanException(ExecutionPlanError.Malformed, "an execution plan needs at least one of streams=S,threads=T,batch=B,delay-ms=D");
        var plan = new ExecutionPlan();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string item in text.Split(','))
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == item.Length - 1)
                throw new ExecutionPlanException(ExecutionPlanError.Malformed, $"'{item}' is not key=value (plan: streams=S,threads=T,batch=B,delay-ms=D)");
            string key = item[..eq].Trim(), value = item[(eq + 1)..].Trim();
            if (!seen.Add(key)) throw new ExecutionPlanException(ExecutionPlanError.DuplicateKey, $"'{key}' is given twice");
            plan = key switch
            {
                "streams" => plan with { Streams = Integer(key, value) },
                "threads" => plan with { Threads = Integer(key, value) },
                "batch" => plan with { MaxBatch = Integer(key, value) },
                "delay-ms" => plan with { MaxDelay = TimeSpan.FromMilliseconds(Number(key, value)) },
                _ => throw new ExecutionPlanException(ExecutionPlanError.UnknownKey, $"unknown key '{key}' (known: streams, threads, batch, delay-ms)"),
            };
        }
        plan.Validate();
        return plan;
    }

    private static int Integer(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n
            : throw new ExecutionPlanException(ExecutionPlanError.BadValue, $"{key}={value}: not a whole number");

    private static double Number(string key, string value) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n) && double.IsFinite(n) ? n
            : throw new ExecutionPlanException(ExecutionPlanError.BadValue, $"{key}={value}: not a number of milliseconds");

    /// <summary>The canonical text, which <see cref="Parse"/> reads back to an equal plan.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"streams={Streams},threads={Threads},batch={MaxBatch},delay-ms={MaxDelay.TotalMilliseconds:0.###}");
}
