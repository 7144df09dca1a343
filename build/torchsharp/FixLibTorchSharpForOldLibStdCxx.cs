// MSBuild inline task (RoslynCodeTaskFactory) used by LibTorchSharpNativeFix.targets. Why: docs/training.md.
// Plain C# rather than a script so that the build needs nothing beyond the .NET SDK, gcc and patchelf (installed
// here with apt-get when missing).
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class FixLibTorchSharpForOldLibStdCxx : Task
{
    const string Symbol = "_ZSt21ios_base_library_initv";
    const string NewVersion = "GLIBCXX_3.4.32";
    const string OldVersion = "GLIBCXX_3.4.30";
    const string ShimName = "libcleave_ios_base_library_init.so";

    [Required] public string LibraryPath { get; set; } = "";
    [Required] public string ShimSource { get; set; } = "";

    public override bool Execute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.OSArchitecture != Architecture.X64)
            return true;
        try
        {
            var library = File.ReadAllBytes(LibraryPath);
            if (!Elf.NeedsVersion(library, NewVersion))
            {
                Log.LogMessage(MessageImportance.Low, $"{LibraryPath} does not need {NewVersion}: nothing to do.");
                return true;
            }
            var host = FindHostLibStdCxx();
            if (host != null && Elf.DefinesVersion(File.ReadAllBytes(host), NewVersion))
            {
                Log.LogMessage(MessageImportance.Low, $"{host} defines {NewVersion}: libLibTorchSharp.so loads as shipped.");
                return true;
            }
            Log.LogMessage(MessageImportance.High,
                $"Patching {LibraryPath} for a libstdc++ without {NewVersion} ({host ?? "libstdc++.so.6 not found"}); see docs/training.md.");
            var patchelf = EnsurePatchelf();
            if (patchelf == null) return false;
            var directory = Path.GetDirectoryName(Path.GetFullPath(LibraryPath))!;
            if (!BuildShim(Path.Combine(directory, ShimName))) return false;

            // Work on a fresh copy (a new inode: the output file may be a hard link into the NuGet cache) and move it
            // over the original only when every step succeeded, so a failed build never leaves a half-patched library.
            var work = LibraryPath + ".cleave-patch";
            File.Copy(LibraryPath, work, overwrite: true);
            try
            {
                if (!Run(patchelf, $"--clear-symbol-version {Symbol} \"{work}\"")) return false;
                if (!Elf.HasNeeded(File.ReadAllBytes(work), ShimName) && !Run(patchelf, $"--add-needed {ShimName} \"{work}\"")) return false;
                var bytes = File.ReadAllBytes(work);
                var error = Elf.RetargetVersionNeed(bytes, NewVersion, OldVersion);
                if (error != null)
                {
                    Log.LogError($"Cannot patch {LibraryPath}: {error}");
                    return false;
                }
                File.WriteAllBytes(work, bytes);
                MoveOver(work, LibraryPath);
            }
            finally
            {
                if (File.Exists(work)) File.Delete(work);
            }
            return true;
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
        {
            Log.LogError($"Cannot patch {LibraryPath}: {e.Message}");
            return false;
        }
    }

    static string? FindHostLibStdCxx()
    {
        foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" })
        {
            var path = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    string? EnsurePatchelf()
    {
        var found = FindOnPath("patchelf");
        if (found != null) return found;
        if (FindOnPath("apt-get") == null || !IsRoot())
        {
            Log.LogError("patchelf is needed to make TorchSharp load on this host's older libstdc++ and is not installed; " +
                         "install it (Debian/Ubuntu: apt-get install patchelf) or build as root so the build installs it. See docs/training.md.");
            return null;
        }
        Log.LogMessage(MessageImportance.High, "Installing patchelf with apt-get (needed to load TorchSharp here).");
        // The lock timeout lets two projects that build at once wait for each other instead of failing.
        Run("apt-get", "-o DPkg::Lock::Timeout=300 update -qq", quiet: true);
        Run("apt-get", "-o DPkg::Lock::Timeout=300 install -y -qq patchelf", quiet: true);
        found = FindOnPath("patchelf");
        if (found == null)
            Log.LogError("apt-get could not install patchelf, which is needed to make TorchSharp load on this host's older libstdc++. " +
                         "Install it by hand (apt-get install patchelf). See docs/training.md.");
        return found;
    }

    bool BuildShim(string target)
    {
        var compiler = FindOnPath("gcc") ?? FindOnPath("cc");
        if (compiler == null)
        {
            Log.LogError("A C compiler (gcc) is needed to build the no-op shim that lets TorchSharp load on this host; install gcc. See docs/training.md.");
            return false;
        }
        var temporary = target + ".tmp";
        if (!Run(compiler, $"-shared -fPIC -O2 -Wl,-soname,{ShimName} -o \"{temporary}\" \"{ShimSource}\"")) return false;
        MoveOver(temporary, target);
        return true;
    }

    // The task compiles against netstandard, which has no File.Move(..., overwrite); File.Replace is a rename on Unix.
    static void MoveOver(string source, string destination)
    {
        if (File.Exists(destination)) File.Replace(source, destination, null);
        else File.Move(source, destination);
    }

    static bool IsRoot()
    {
        try { return File.ReadAllText("/proc/self/status").Contains("\nUid:\t0\t"); }
        catch (IOException) { return false; }
    }

    static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            if (dir.Length == 0) continue;
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    bool Run(string file, string arguments, bool quiet = false)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var stdoutTask = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(600_000))
        {
            process.Kill();
            Log.LogError($"{file} {arguments} did not finish within 10 minutes.");
            return false;
        }
        var stdout = stdoutTask.Result;
        if (process.ExitCode == 0) return true;
        if (!quiet) Log.LogError($"{file} {arguments} failed ({process.ExitCode}): {stderr.Trim()} {stdout.Trim()}");
        return false;
    }

    /// <summary>Just enough ELF64 little-endian reading and editing for the version sections.</summary>
    static class Elf
    {
        const uint ShtDynamic = 6, ShtDynsym = 11, ShtVerdef = 0x6ffffffd, ShtVerneed = 0x6ffffffe, ShtVersym = 0x6fffffff;

        readonly struct Section
        {
            public readonly uint Type; public readonly long Offset; public readonly long Size; public readonly int Link;
            public Section(uint type, long offset, long size, int link) { Type = type; Offset = offset; Size = size; Link = link; }
        }

        static List<Section> Sections(byte[] b)
        {
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
                throw new InvalidDataException("not a 64-bit little-endian ELF file");
            long shoff = (long)U64(b, 0x28);
            int shentsize = U16(b, 0x3A), shnum = U16(b, 0x3C);
            if (shentsize < 64 || shoff < 0 || shoff + (long)shentsize * shnum > b.Length) throw new InvalidDataException("section headers out of range");
            var list = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                var s = new Section(U32(b, h + 4), (long)U64(b, h + 24), (long)U64(b, h + 32), (int)U32(b, h + 40));
                if (s.Type != 8 /* NOBITS */ && (s.Offset < 0 || s.Size < 0 || s.Offset + s.Size > b.Length)) throw new InvalidDataException("section out of range");
                list.Add(s);
            }
            return list;
        }

        static Section? Find(List<Section> sections, uint type)
        {
            foreach (var s in sections) if (s.Type == type) return s;
            return null;
        }

        static string Str(byte[] b, Section strtab, long offset)
        {
            long start = strtab.Offset + offset, end = start;
            long limit = strtab.Offset + strtab.Size;
            if (offset < 0 || start >= limit) throw new InvalidDataException("string offset out of range");
            while (end < limit && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)start, (int)(end - start));
        }

        /// <summary>Calls visit(auxiliaryOffset, name) for every version-need entry; stops when visit returns false.</summary>
        static void ForEachNeed(byte[] b, List<Section> sections, Func<long, string, bool> visit)
        {
            var need = Find(sections, ShtVerneed);
            if (need == null) return;
            var strtab = sections[need.Value.Link];
            long entry = need.Value.Offset, end = need.Value.Offset + need.Value.Size;
            for (int guard = 0; guard < 10_000 && entry + 16 <= end; guard++)
            {
                int count = U16(b, entry + 2);
                long aux = entry + U32(b, entry + 8);
                for (int i = 0; i < count && aux + 16 <= end; i++)
                {
                    if (!visit(aux, Str(b, strtab, U32(b, aux + 8)))) return;
                    uint nextAux = U32(b, aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(b, entry + 12);
                if (next == 0) break;
                entry += next;
            }
        }

        public static bool NeedsVersion(byte[] b, string version)
        {
            bool found = false;
            ForEachNeed(b, Sections(b), (_, name) => { found |= name == version; return !found; });
            return found;
        }

        public static bool DefinesVersion(byte[] b, string version)
        {
            var sections = Sections(b);
            var def = Find(sections, ShtVerdef);
            if (def == null) return false;
            var strtab = sections[def.Value.Link];
            long entry = def.Value.Offset, end = def.Value.Offset + def.Value.Size;
            for (int guard = 0; guard < 10_000 && entry + 20 <= end; guard++)
            {
                long aux = entry + U32(b, entry + 12);
                if (aux + 8 <= end && Str(b, strtab, U32(b, aux)) == version) return true;
                uint next = U32(b, entry + 16);
                if (next == 0) break;
                entry += next;
            }
            return false;
        }

        public static bool HasNeeded(byte[] b, string library)
        {
            var sections = Sections(b);
            var dynamic = Find(sections, ShtDynamic);
            if (dynamic == null) return false;
            var strtab = sections[dynamic.Value.Link];
            for (long e = dynamic.Value.Offset; e + 16 <= dynamic.Value.Offset + dynamic.Value.Size; e += 16)
            {
                ulong tag = U64(b, e);
                if (tag == 0) break;
                if (tag == 1 && Str(b, strtab, (long)U64(b, e + 8)) == library) return true;
            }
            return false;
        }

        /// <summary>Turns the need for <paramref name="from"/> into one for <paramref name="to"/> (vna_name and vna_hash),
        /// after checking that no symbol still asks for <paramref name="from"/>. Returns an error or null.</summary>
        public static string? RetargetVersionNeed(byte[] b, string from, string to)
        {
            var sections = Sections(b);
            long fromAux = -1, toName = -1;
            ForEachNeed(b, sections, (aux, name) =>
            {
                if (name == from) fromAux = aux;
                if (name == to) toName = U32(b, aux + 8);
                return true;
            });
            if (fromAux < 0) return null;
            int index = U16(b, fromAux + 6) & 0x7fff;
            var versym = Find(sections, ShtVersym);
            if (versym != null)
                for (long v = versym.Value.Offset; v + 2 <= versym.Value.Offset + versym.Value.Size; v += 2)
                    if ((U16(b, v) & 0x7fff) == index)
                        return $"a symbol other than {Symbol} still needs {from} (dynamic symbol #{(v - versym.Value.Offset) / 2}); this TorchSharp build needs a newer libstdc++.";
            if (toName < 0)
            {
                // No string for the older version yet: the two names have the same length, so rewrite ours in place.
                var need = Find(sections, ShtVerneed)!.Value;
                var strtab = sections[need.Link];
                toName = U32(b, fromAux + 8);
                Encoding.ASCII.GetBytes(to, 0, to.Length, b, (int)(strtab.Offset + toName));
            }
            W32(b, fromAux, ElfHash(to));
            W32(b, fromAux + 8, (uint)toName);
            return null;
        }

        static uint ElfHash(string name)
        {
            uint h = 0;
            foreach (char c in name)
            {
                h = (h << 4) + c;
                uint g = h & 0xf0000000;
                if (g != 0) h ^= g >> 24;
                h &= ~g;
            }
            return h;
        }

        static int U16(byte[] b, long o) => b[o] | b[o + 1] << 8;
        static uint U32(byte[] b, long o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;
        static void W32(byte[] b, long o, uint v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); b[o + 2] = (byte)(v >> 16); b[o + 3] = (byte)(v >> 24); }
    }
}
