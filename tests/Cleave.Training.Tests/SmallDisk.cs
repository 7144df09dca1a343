using System.Diagnostics;

namespace Cleave.Training.Tests;

/// <summary>
/// A real, small file system (a tmpfs of a few hundred KiB mounted on a temporary folder) so that a write can run out of
/// space for real (ENOSPC from the kernel, not a simulated stream). Mounting needs root (CAP_SYS_ADMIN) on Linux;
/// <see cref="Unavailable"/> says why it cannot be had, for the skip reason.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private static readonly Lazy<string?> Probe = new(ProbeMount);

    public SmallDisk(int kibibytes)
    {
        Folder = Directory.CreateTempSubdirectory("cleave-small-disk-").FullName;
        string? error = Run("mount", "-t", "tmpfs", "-o", $"size={kibibytes}k,mode=0700", "tmpfs", Folder);
        if (error is not null)
        {
            Directory.Delete(Folder);
            throw new InvalidOperationException($"mounting a {kibibytes} KiB tmpfs on {Folder} failed: {error}");
        }
    }

    public string Folder { get; }

    /// <summary>Why a small disk cannot be mounted here, or null when it can.</summary>
    public static string? Unavailable => Probe.Value;

    /// <summary>Fills the disk with one file until the kernel answers ENOSPC; returns the file's path.</summary>
    public string FillUp()
    {
        string filler = Path.Combine(Folder, "filler.bin");
        var block = new byte[4096];
        using var stream = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1);
        try
        {
            while (true) stream.Write(block);
        }
        catch (IOException e) when (Loop.TrainingSaveException.IsDiskFull(e)) { }
        // Whatever the last partial block left free (tmpfs counts pages): take it too.
        try { stream.Write(block, 0, 1); } catch (IOException e) when (Loop.TrainingSaveException.IsDiskFull(e)) { }
        return filler;
    }

    public void Dispose()
    {
        // A lazy unmount still detaches the file system if a test left a file open.
        if (Run("umount", Folder) is not null) Run("umount", "-l", Folder);
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    private static string? ProbeMount()
    {
        if (!OperatingSystem.IsLinux()) return "a real full disk is made with a tmpfs mount, which needs Linux";
        try
        {
            using var disk = new SmallDisk(64);
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): {e.Message}";
        }
    }

    /// <summary>Runs a command (10 s deadline); null on success, else what went wrong.</summary>
    private static string? Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            return $"{command} did not finish in 10 s";
        }
        return process.ExitCode == 0 ? null : $"{command} exited with {process.ExitCode}: {stderr.Result.Trim()}";
    }
}
