namespace Cleave.Training.Loop;

/// <summary>
/// A checkpoint could not be written (a full disk, a read-only folder...). The temporary file is removed, so the
/// destination holds the previous checkpoint, whole, or nothing; <see cref="DiskFull"/> says whether the disk was full.
/// </summary>
public sealed class TrainingSaveException(string path, long step, IOException inner)
    : IOException(Describe(path, step, inner), inner)
{
    public string Path { get; } = path;
    public long Step { get; } = step;

    /// <summary>True when the write failed because the disk (or the user's quota) was full.</summary>
    public bool DiskFull { get; } = IsDiskFull(inner);

    /// <summary>ENOSPC (28) and EDQUOT (122) on Linux; ERROR_DISK_FULL (112) and ERROR_HANDLE_DISK_FULL (39) on Windows.</summary>
    public static bool IsDiskFull(IOException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        int code = e.HResult & 0xFFFF;
        return OperatingSystem.IsWindows() ? code is 112 or 39 : e.HResult is 28 or 122;
    }

    private static string Describe(string path, long step, IOException inner) =>
        (IsDiskFull(inner) ? $"the disk is full: could not write checkpoint '{path}' at step {step}" : $"could not write checkpoint '{path}' at step {step}: {inner.Message}")
        + " (nothing was half-written; the previous checkpoint, if any, is intact)";
}
