namespace Cleave.Training.Onnx;

/// <summary>
/// An ONNX graph uses operators (or operator settings) that <see cref="OnnxModule"/> cannot run. Every problem is
/// listed at once, found before anything runs, so one look tells what a model needs.
/// </summary>
public sealed class UnsupportedOnnxOperatorsException(IReadOnlyList<string> problems)
    : NotSupportedException($"the ONNX graph uses what OnnxModule cannot run: {string.Join("; ", problems)}")
{
    /// <summary>One line per problem, e.g. "NonMaxSuppression (2 nodes)" or "Conv 'c1': 3-D convolution".</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}
