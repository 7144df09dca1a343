using TorchSharp;

namespace Cleave.Training;

/// <summary>
/// One place that prepares libtorch for Cleave's training: thread counts sized for small (2-core) machines, set once
/// before the first operation because libtorch fixes its inter-op pool at first use.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool initialised;

    /// <summary>Threads used by libtorch's intra-op pool (the 2-core machines; ONNX Runtime shares them).</summary>
    public const int DefaultThreads = 2;

    /// <summary>Sets libtorch's thread counts once per process; later calls are no-ops.</summary>
    public static void Initialise(int threads = DefaultThreads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        lock (Gate)
        {
            if (initialised) return;
            torch.set_num_threads(threads);
            initialised = true;
        }
    }
}
