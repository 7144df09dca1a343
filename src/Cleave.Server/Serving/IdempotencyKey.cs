namespace Cleave.Runtime.Serving;

/// <summary>
/// Whose request an idempotency entry is: <paramref name="Identity"/> is the authenticated caller (API key name or
/// client certificate) or, on a server without authentication, the peer's IP address (not its port: a reconnecting
/// client keeps its address but not its port); the ids are the client's own.
/// </summary>
internal readonly record struct IdempotencyKey(string Identity, string ClientId, string RequestId);
