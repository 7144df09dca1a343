using Cleave.Runtime.Links;

namespace Cleave.Cli.Demo;

/// <summary>What `cleave demo` runs: which model cut, codec, link and how much of the sample.</summary>
public sealed record DemoOptions
{
    /// <summary>The shared assets folder (models and the ImageNet sample).</summary>
    public required string AssetsRoot { get; init; }

    /// <summary>Where the imported model, the split and the report go.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>
    /// A mid-network cut of MobileNetV2: the residual sum after the sixth inverted-residual block, 32x28x28 values
    /// (docs/codecs.md measures every codec family at it over the 1000 sample images).
    /// </summary>
    public string Cut { get; init; } = "MobilenetV2/expanded_conv_5/add";

    /// <summary>
    /// The cheapest setting within 1 point of the unsplit model at this cut in the 1000-image sweep
    /// (docs/results/mobilenetv2: 4.9 KB per image, 20.5x below float32, -0.6 points; 5.8 KB and 17.3x without
    /// the spatial-context layout).
    /// </summary>
    public string Codec { get; init; } = "rans-ifc:bits=3,levels=6,clip=3,ctx=2d";

    /// <summary>Quality of the JPEG-offload baseline (the input image, cropped and resized, sent whole).</summary>
    public int JpegQuality { get; init; } = 90;

    public int Images { get; init; } = 200;

    public int Clients { get; init; } = 4;

    public LinkProfile Link { get; init; } = LinkProfile.Preset("lte");

    public int MaxBatch { get; init; } = 8;
}
