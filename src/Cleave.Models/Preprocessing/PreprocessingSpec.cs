using System.Globalization;

namespace Cleave.Models.Preprocessing;

/// <summary>
/// How an image becomes a model's input tensor: crop the central <see cref="CropFraction"/> of the image, resize it
/// bilinearly to <see cref="Width"/> x <see cref="Height"/>, then map each 0-255 channel value p to
/// <c>(p - Mean[c]) * Scale[c]</c>, with channels in <see cref="ColorOrder"/> and the tensor laid out as <see cref="Layout"/>.
/// Importers record it in the ONNX model's metadata_props so evaluation applies exactly what the model expects.
/// </summary>
public sealed record PreprocessingSpec
{
    public const string KeyPrefix = "cleave.preprocess.";

    public required int Width { get; init; }
    public required int Height { get; init; }
    public double CropFraction { get; init; } = 1.0;
    public required float[] Mean { get; init; }
    public required float[] Scale { get; init; }

    /// <summary>"NCHW" (planes) or "NHWC" (interleaved).</summary>
    public string Layout { get; init; } = "NCHW";

    /// <summary>"RGB" or "BGR".</summary>
    public string ColorOrder { get; init; } = "RGB";

    /// <summary>Name of the model input the spec describes.</summary>
    public string InputName { get; init; } = "input";

    public int Channels => Mean.Length;

    /// <summary>The [0,255] -> [-1,1] mapping used by MobileNet and friends (x / 127.5 - 1).</summary>
    public static PreprocessingSpec MinusOneToOne(int width, int height, double cropFraction, string inputName = "input") => new()
    {
        Width = width, Height = height, CropFraction = cropFraction, InputName = inputName,
        Mean = [127.5f, 127.5f, 127.5f], Scale = [1 / 127.5f, 1 / 127.5f, 1 / 127.5f],
    };

    public IReadOnlyDictionary<string, string> ToMetadata() => new Dictionary<string, string>
    {
        [KeyPrefix + "input"] = InputName,
        [KeyPrefix + "width"] = Width.ToString(CultureInfo.InvariantCulture),
        [KeyPrefix + "height"] = Height.ToString(CultureInfo.InvariantCulture),
        [KeyPrefix + "crop_fraction"] = CropFraction.ToString("R", CultureInfo.InvariantCulture),
        [KeyPrefix + "resize"] = "bilinear",
        [KeyPrefix + "mean"] = string.Join(",", Mean.Select(m => m.ToString("R", CultureInfo.InvariantCulture))),
        [KeyPrefix + "scale"] = string.Join(",", Scale.Select(s => s.ToString("R", CultureInfo.InvariantCulture))),
        [KeyPrefix + "layout"] = Layout,
        [KeyPrefix + "color_order"] = ColorOrder,
    };

    /// <summary>Reads the spec back from metadata_props; null when the model carries none.</summary>
    public static PreprocessingSpec? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.ContainsKey(KeyPrefix + "width")) return null;
        string Get(string key) => metadata.TryGetValue(KeyPrefix + key, out var v) ? v
            : throw new FormatException($"preprocessing metadata lacks '{KeyPrefix + key}'");
        int GetInt(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v : throw new FormatException($"preprocessing metadata '{KeyPrefix + key}' is not a positive integer: '{Get(key)}'");
        float[] GetFloats(string key)
        {
            var parts = Get(key).Split(',');
            var values = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                    throw new FormatException($"preprocessing metadata '{KeyPrefix + key}' has a bad number '{parts[i]}'");
            return values;
        }

        var mean = GetFloats("mean");
        var scale = GetFloats("scale");
        if (mean.Length != scale.Length || mean.Length is not (1 or 3))
            throw new FormatException($"preprocessing metadata has {mean.Length} means and {scale.Length} scales; expected 1 or 3 of each");
        if (!double.TryParse(Get("crop_fraction"), NumberStyles.Float, CultureInfo.InvariantCulture, out double crop) || crop is <= 0 or > 1)
            throw new FormatException($"preprocessing metadata crop_fraction must be in (0, 1], got '{Get("crop_fraction")}'");
        string layout = Get("layout");
        if (layout is not ("NCHW" or "NHWC")) throw new FormatException($"preprocessing layout must be NCHW or NHWC, got '{layout}'");
        string color = Get("color_order");
        if (color is not ("RGB" or "BGR")) throw new FormatException($"preprocessing color_order must be RGB or BGR, got '{color}'");
        return new PreprocessingSpec
        {
            InputName = Get("input"), Width = GetInt("width"), Height = GetInt("height"), CropFraction = crop,
            Mean = mean, Scale = scale, Layout = layout, ColorOrder = color,
        };
    }

    public bool Equals(PreprocessingSpec? other) =>
        other is not null && Width == other.Width && Height == other.Height && CropFraction == other.CropFraction
        && Mean.AsSpan().SequenceEqual(other.Mean) && Scale.AsSpan().SequenceEqual(other.Scale)
        && Layout == other.Layout && ColorOrder == other.ColorOrder && InputName == other.InputName;

    public override int GetHashCode() => HashCode.Combine(Width, Height, CropFraction, Layout, ColorOrder, InputName);
}
