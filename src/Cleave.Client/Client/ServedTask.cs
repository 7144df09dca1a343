namespace Cleave.Runtime.Client;

/// <summary>One task tail a server runs on the transmitted feature: kind "classes" (answers carry the top classes) or "tensor" (the output frame); <see cref="Outputs"/> values per sample.</summary>
public sealed record ServedTask(string Name, string Kind, int Outputs);
