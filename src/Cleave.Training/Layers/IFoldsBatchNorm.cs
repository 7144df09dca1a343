using Cleave.Models.Onnx;

namespace Cleave.Training.Layers;

/// <summary>A convolution-like layer that can absorb a following batch normalisation into its weights on export.</summary>
internal interface IFoldsBatchNorm
{
    long OutputChannels { get; }

    /// <summary>Emits the layer with <paramref name="batchNorm"/> (when given) folded into its weights and bias.</summary>
    string EmitFolded(OnnxGraphBuilder graph, string input, BatchNorm2dLayer? batchNorm);
}
