using System.Runtime.InteropServices;
using TorchSharp;

namespace Cleave.Training;

/// <summary>
/// One place that prepares libtorch for Cleave's training: thread counts sized for small (2-core) machines, set once
/// before the first operation because libtorch fixes its inter-op pool at first use, and OpenMP told not to spin.
/// </summary>
public static partial class TorchRuntime
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
            PassiveOpenMpWaits();
            torch.set_num_threads(threads);
            initialised = true;
        }
    }

    /// <summary>
    /// libtorch's OpenMP threads spin at every barrier by default; on a small shared machine a spinning thread holds the
    /// core its descheduled partner needs, and a Fashion-MNIST training step took about 10 s at load 60 instead of
    /// 0.6-1.4 s with <c>OMP_WAIT_POLICY=PASSIVE</c> (docs/trained-architectures.md, Notes). libgomp reads the variable
    /// from the C environment when libtorch loads, which happens at the first torch call below, so it is set there with
    /// the C library's <c>setenv</c> (.NET's own <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not
    /// reach the C environment); a value the user set is kept.
    /// </summary>
    private static void PassiveOpenMpWaits()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is { Length: > 0 }) return;
        _ = SetEnvironment("OMP_WAIT_POLICY", "PASSIVE", 0);
        Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironment(string name, string value, int overwrite);
}
