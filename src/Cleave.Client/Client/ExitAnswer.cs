namespace Cleave.Runtime.Client;

/// <summary>What the device's exit said about one image: its top-1, the softmax confidence, and whether that passed the threshold.</summary>
public sealed record ExitAnswer(int Top1, float Confidence, bool Exited, double ExitMs);
