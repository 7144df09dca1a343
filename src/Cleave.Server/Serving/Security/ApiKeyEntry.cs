namespace Cleave.Runtime.Serving.Security;

/// <summary>One line of a key file: the key's name (what the server calls the caller), the SHA-256 of the key, its quota (null: the server's default).</summary>
public sealed record ApiKeyEntry(string Name, string Sha256Hex, ClientQuota? Quota);
