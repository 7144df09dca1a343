namespace Cleave.Runtime.Serving;

/// <summary>The values of <c>Hello.mode</c>: what a client sends and what the server runs on it.</summary>
public static class ServingModes
{
    /// <summary>Frames of the cut tensor; the server runs the tail.</summary>
    public const string Split = "split";

    /// <summary>Encoded image files; the server decodes, preprocesses and runs the whole model.</summary>
    public const string Full = "full";
}
