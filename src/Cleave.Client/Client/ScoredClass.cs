namespace Cleave.Runtime.Client;

/// <summary>One of the top classes of an answer: the class index in the model's output and its score.</summary>
public sealed record ScoredClass(int ClassIndex, float Score);
