namespace Cleave.Codecs.IO;

/// <summary>
/// Writes a file atomically: into a temporary file in the same folder, flushed to disk, then moved over the target,
/// so a failed or interrupted write leaves any previous file intact and never a half-written one. Missing parent
/// folders are created.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var (temporary, fullPath) = TemporaryBeside(path);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }
    }

    /// <summary>A new temporary file's name in the folder of <paramref name="path"/> (created), and the full target path.</summary>
    private static (string Temporary, string FullPath) TemporaryBeside(string path)
    {
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no parent folder", nameof(path));
        // `-o artifacts/m.onnx` on a fresh clone: the folder is part of what was asked for.
        Directory.CreateDirectory(folder);
        return (Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp"), fullPath);
    }

    private static void DeleteQuietly(string temporary)
    {
        try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Writes several files all or none: every file goes to a temporary file beside its target first (flushed to disk);
    /// only when all are written are they moved into place, in the given order (put a manifest last). A full disk or any
    /// other failure while writing removes the temporary files and leaves every target as it was. The moves need no
    /// space; a crash between two of them can leave the earlier targets new and the later ones old, never a partial file.
    /// </summary>
    public static void WriteAll(IReadOnlyList<(string Path, byte[] Bytes)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var temporaries = new List<(string Temporary, string Target)>(files.Count);
        try
        {
            foreach (var (path, bytes) in files)
            {
                ArgumentNullException.ThrowIfNull(path);
                ArgumentNullException.ThrowIfNull(bytes);
                var (temporary, fullPath) = TemporaryBeside(path);
                temporaries.Add((temporary, fullPath));
                using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            foreach (var (temporary, _) in temporaries) DeleteQuietly(temporary);
            throw;
        }
        foreach (var (temporary, target) in temporaries) File.Move(temporary, target, overwrite: true);
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }
}
