namespace Cleave.Planning.Planner;

/// <summary>Why a list of models cannot be planned over together.</summary>
public enum ModelSetError
{
    /// <summary>No model was given.</summary>
    Empty,

    /// <summary>The same model (by name or by content) is listed twice.</summary>
    Duplicate,

    /// <summary>A model has no profile, or a profile without what makes it comparable (input shape, classes, calibration hash).</summary>
    MissingProfile,

    /// <summary>The models answer different questions or were calibrated on different images: their accuracies do not compare.</summary>
    Inconsistent,
}

/// <summary>
/// A list of models the multi-model planner refuses, with the reason as a code and a sentence naming the model. An
/// <see cref="ArgumentException"/>: the list is a bad argument, and callers that report those report this too.
/// </summary>
public sealed class ModelSetException : ArgumentException
{
    public ModelSetException(ModelSetError error, string message) : base(message) => Error = error;

    public ModelSetException() : this(ModelSetError.Empty, "no models") { }

    public ModelSetException(string message) : this(ModelSetError.Inconsistent, message) { }

    public ModelSetException(string message, Exception innerException) : base(message, innerException) => Error = ModelSetError.Inconsistent;

    public ModelSetError Error { get; }
}
