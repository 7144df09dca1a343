using Microsoft.ML.OnnxRuntime;

namespace Cleave.Runtime.Serving;

/// <summary>One task tail loaded for serving: its ONNX Runtime session, what it answers, and how big one answer is.</summary>
public sealed class TaskModel : IDisposable
{
    internal TaskModel(string name, string kind, InferenceSession session, string outputName, int outputsPerSample)
    {
        Name = name;
        Kind = kind;
        Session = session;
        OutputName = outputName;
        OutputsPerSample = outputsPerSample;
    }

    public string Name { get; }

    /// <summary>"classes" or "tensor" (<see cref="Cleave.Models.Splitting.SplitTask"/>).</summary>
    public string Kind { get; }

    internal InferenceSession Session { get; }

    internal string OutputName { get; }

    /// <summary>Values in one sample's output when the model fixes them, 0 when it does not say.</summary>
    public int OutputsPerSample { get; }

    public void Dispose() => Session.Dispose();
}
