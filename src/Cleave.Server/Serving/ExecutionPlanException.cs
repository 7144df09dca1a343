namespace Cleave.Runtime.Serving;

/// <summary>What is wrong with an execution plan's text (<see cref="ExecutionPlan.Parse"/>).</summary>
public enum ExecutionPlanError
{
    /// <summary>Nothing given, or an item that is not <c>key=value</c>.</summary>
    Malformed,
    /// <summary>A key other than streams, threads, batch, delay-ms.</summary>
    UnknownKey,
    /// <summary>The same key twice.</summary>
    DuplicateKey,
    /// <summary>A value that is not a number of the key's kind.</summary>
    BadValue,
    /// <summary>A number outside the key's range.</summary>
    OutOfRange,
}

/// <summary>An execution plan that cannot be used, with the reason as a code (the CLI prints the message).</summary>
public sealed class ExecutionPlanException : FormatException
{
    public ExecutionPlanException(ExecutionPlanError error, string message) : base(message) => Error = error;

    public ExecutionPlanError Error { get; }
}
