using static TorchSharp.torch;

namespace Cleave.Training.Distillation;

/// <summary>
/// How much a frozen tail cares about each channel of its input: the diagonal of the Fisher information with respect to
/// the cut tensor, averaged over positions and samples, w_c = mean over n, h, w of (d log p(ŷ | x) / d x_{n,c,h,w})², where
/// ŷ is the tail's own top class on x. Weights for a feature loss that should count what the tail reads (a task-weighted
/// error, as <c>rans-ifc</c>'s <c>gains=</c> do for the codec) instead of every channel alike.
/// </summary>
/// <remarks>
/// Why the log-probability of the top class and not the gradient of KL(teacher ‖ tail(x)): on the clean cut tensors the
/// tail's output <em>is</em> the teacher's (tail(head(x)) is the unsplit model), so that KL sits at its minimum and its
/// gradient is zero up to rounding; it measures nothing there. The squared score of the top class is the one-sample
/// (most likely class) estimate of the Fisher information, whose diagonal is the curvature of that same KL: moving channel
/// c by δ costs about ½·F_cc·δ² of KL, which is what the weights should reflect. Why gradients and not the perturbation of
/// <c>ChannelSensitivity</c> (Evaluation): one backward pass per batch gives every channel at once through the TorchSharp
/// tail the trainer already holds, where perturbing C channels needs C + 1 tail runs per image. Why one weight per
/// channel (the mean over positions) and not per element: 25,088 weights from a few hundred images would be noisy, and
/// what differs between channels (which features the tail reads) is what the loss should know; the spatial layout is
/// the image's, not the tail's.
/// </remarks>
public static class TailFisher
{
    /// <summary>A channel's weight is at least this fraction of the mean before normalising, so no channel is left wholly unconstrained.</summary>
    public const double Floor = 1e-3;

    /// <summary>
    /// Per-channel diagonal Fisher weights ([C], mean 1, all positive) of <paramref name="tail"/> on the cut tensors
    /// <paramref name="features"/> ([N, C, ...]), in batches of <paramref name="batchSize"/>. The tail's weights stay frozen.
    /// </summary>
    public static Tensor ChannelWeights(FrozenTail tail, Tensor features, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(tail);
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() < 2 || features.shape[0] == 0) throw new ArgumentException($"need a batch of [N, C, ...] cut tensors, got [{string.Join(",", features.shape)}]");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        long n = features.shape[0], channels = features.shape[1];
        long perChannel = features.numel() / (n * channels);
        using var sums = zeros(channels, dtype: ScalarType.Float64);
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var x = features.narrow(0, start, Math.Min(batchSize, n - start)).detach().clone().requires_grad_(true);
            var logProbabilities = nn.functional.log_softmax(tail.Logits(x), 1);
            var top = logProbabilities.argmax(1, keepdim: true);
            // Samples do not interact in the tail (inference-mode normalisation), so one backward of the sum gives every
            // sample's own gradient.
            logProbabilities.gather(1, top).sum().backward();
            var squared = x.grad!.square().transpose(0, 1).reshape(channels, -1).sum(1).to_type(ScalarType.Float64);
            sums.add_(squared);
        }
        using var _ = no_grad();
        using var mean = sums / (double)(n * perChannel);
        if (!mean.isfinite().all().item<bool>()) throw new InvalidOperationException("the tail's Fisher weights are not finite");
        double average = mean.mean().item<double>();
        if (!(average > 0)) throw new InvalidOperationException("the tail's gradients at the cut are zero: no channel weights");
        using var floored = mean.clamp_min(Floor * average);
        return (floored / floored.mean()).to_type(ScalarType.Float32);
    }
}
