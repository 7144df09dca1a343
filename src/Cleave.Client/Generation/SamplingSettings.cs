using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Generation;

/// <summary>How the next token is drawn: temperature 0 is greedy; top-k 0 keeps the whole vocabulary.</summary>
public sealed record SamplingSettings(float Temperature = 0, int TopK = 0, ulong Seed = 0)
{
    /// <summary>How many top logits a step returns when the request names no number (the client samples from them).</summary>
    public const int DefaultTopLogits = 40;

    public static SamplingSettings Greedy { get; } = new();

    public bool IsGreedy => Temperature <= 0;

    internal Sampling ToProto(bool clientSamples = false, int returnTopLogits = 0) => new()
    {
        Temperature = Temperature, TopK = (uint)TopK, Seed = Seed, ClientSamples = clientSamples, ReturnTopLogits = (uint)returnTopLogits,
    };

    internal static SamplingSettings FromProto(Sampling? sampling)
    {
        if (sampling is null) return Greedy;
        if (!float.IsFinite(sampling.Temperature) || sampling.Temperature < 0)
            throw new GenerationException(GenerationErrorCode.BadRequest, $"temperature {sampling.Temperature} must be finite and >= 0");
        return new SamplingSettings(sampling.Temperature, (int)Math.Min(sampling.TopK, int.MaxValue), sampling.Seed);
    }
}
