using System.Security.Cryptography;

namespace Cleave.Runtime.Client;

/// <summary>A small model stored beside a split by its own manifest (exit.json, gate.json): read and checked against the hash the manifest records.</summary>
internal static class SplitSideModel
{
    public static byte[] Read(string splitPath, string file, string sha256, string manifestName)
    {
        byte[] model = File.ReadAllBytes(Path.Combine(splitPath, file));
        if (sha256.Length > 0 && !string.Equals(Convert.ToHexStringLower(SHA256.HashData(model)), sha256, StringComparison.Ordinal))
            throw new InvalidDataException($"'{file}' does not match the hash in {manifestName} (rewritten without its manifest?)");
        return model;
    }
}
