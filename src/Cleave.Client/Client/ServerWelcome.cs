namespace Cleave.Runtime.Client;

/// <summary>
/// The server's answer to a client's handshake: its instance id (new on each start), the split it serves (manifest
/// hash, empty in full mode), the codecs it accepts of those the client offered, its message size limit, the mode, and
/// the task tails it runs on the cut (the first is the default task).
/// </summary>
public sealed record ServerWelcome(string ServerId, string ManifestHash, IReadOnlyList<string> AcceptedCodecs, int MaxMessageBytes, string Mode,
    IReadOnlyList<ServedTask> Tasks);

