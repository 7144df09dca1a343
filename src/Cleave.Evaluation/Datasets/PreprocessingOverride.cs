using System.Globalization;
using Cleave.Models.Preprocessing;

namespace Cleave.Evaluation.Datasets;

/// <summary>
/// A <see cref="PreprocessingSpec"/> given on the command line instead of (or over) the one the importer recorded:
/// <c>size=224,crop=0.875,mean=127.5,scale=0.0078125,layout=NCHW,order=RGB,input=NAME</c> (also <c>width=</c>,
/// <c>height=</c>; mean/scale take one value or three separated by '/'). Keys not given keep the base spec's values.
/// </summary>
public static class PreprocessingOverride
{
    /// <summary>The spec a model records (cleave.preprocess.* metadata), with <paramref name="overrideText"/> applied over it when given.</summary>
    public static PreprocessingSpec ForModel(string modelPath, string? overrideText)
    {
        var model = Cleave.Models.Onnx.OnnxModel.Load(modelPath);
        var recorded = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value));
        if (overrideText is null)
            return recorded ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`, or give --preprocess size=...)");
        return Parse(overrideText, recorded);
    }

    public static PreprocessingSpec Parse(string text, PreprocessingSpec? baseSpec)
    {
        ArgumentNullException.ThrowIfNull(text);
        int? width = baseSpec?.Width, height = baseSpec?.Height;
        double crop = baseSpec?.CropFraction ?? 1.0;
        float[]? mean = baseSpec?.Mean, scale = baseSpec?.Scale;
        string layout = baseSpec?.Layout ?? "NCHW", order = baseSpec?.ColorOrder ?? "RGB", input = baseSpec?.InputName ?? "input";
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new FormatException($"preprocessing option '{part}' is not key=value");
            string key = part[..eq].Trim(), value = part[(eq + 1)..].Trim();
            switch (key)
            {
                case "size": width = height = PositiveInt(key, value); break;
                case "width": width = PositiveInt(key, value); break;
                case "height": height = PositiveInt(key, value); break;
                case "crop":
                    crop = Number(key, value);
                    if (crop is <= 0 or > 1) throw new FormatException($"preprocessing crop must be in (0, 1], got {value}");
                    break;
                case "mean": mean = Numbers(key, value); break;
                case "scale": scale = Numbers(key, value); break;
                case "layout": layout = value.ToUpperInvariant() is "NCHW" or "NHWC" ? value.ToUpperInvariant() : throw new FormatException($"layout must be NCHW or NHWC, got '{value}'"); break;
                case "order": order = value.ToUpperInvariant() is "RGB" or "BGR" ? value.ToUpperInvariant() : throw new FormatException($"order must be RGB or BGR, got '{value}'"); break;
                case "input": input = value; break;
                default: throw new FormatException($"unknown preprocessing option '{key}' (size, width, height, crop, mean, scale, layout, order, input)");
            }
        }
        if (width is null || height is null) throw new FormatException("the model records no preprocessing: give size= (or width= and height=)");
        mean ??= [0, 0, 0];
        scale ??= [1, 1, 1];
        if (mean.Length == 1 && scale.Length == 3) mean = [mean[0], mean[0], mean[0]];
        if (scale.Length == 1 && mean.Length == 3) scale = [scale[0], scale[0], scale[0]];
        if (mean.Length != scale.Length) throw new FormatException($"preprocessing has {mean.Length} means and {scale.Length} scales");
        return new PreprocessingSpec
        {
            Width = width.Value, Height = height.Value, CropFraction = crop, Mean = mean, Scale = scale,
            Layout = layout, ColorOrder = order, InputName = input,
        };
    }

    private static int PositiveInt(string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v : throw new FormatException($"preprocessing {key} must be a positive integer, got '{value}'");

    private static double Number(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw new FormatException($"preprocessing {key} must be a number, got '{value}'");

    private static float[] Numbers(string key, string value)
    {
        var parts = value.Split('/');
        if (parts.Length is not (1 or 3)) throw new FormatException($"preprocessing {key} takes 1 or 3 values separated by '/', got '{value}'");
        return [.. parts.Select(p => (float)Number(key, p))];
    }
}
