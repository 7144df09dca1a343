using Cleave.Evaluation.Datasets;
using Cleave.Models.Tests;

namespace Cleave.Training.Tests;

/// <summary>
/// A fact that needs WordNet 3.0 (Debian's wordnet-base) and the shared MobileNetV2 and ImageNet sample: skipped,
/// with the reason, when either is absent.
/// </summary>
public sealed class WordNetFactAttribute : FactAttribute
{
    public WordNetFactAttribute()
    {
        if (!File.Exists(WordNetNouns.DefaultPath))
            Skip = $"WordNet is not installed ({WordNetNouns.DefaultPath}; apt-get install wordnet-base; the test project's build tries as root)";
        else if (TestAssets.Root is not { } root)
            Skip = "shared assets not found (../shared/assets or CLEAVE_ASSETS)";
        else if (!File.Exists(Path.Combine(root, "vision/mobilenet_v2_1.0_224_quant.tflite")) || !Directory.Exists(Path.Combine(root, "imagenet-sample")))
            Skip = $"MobileNetV2 or the ImageNet sample is missing under {root}";
    }
}
