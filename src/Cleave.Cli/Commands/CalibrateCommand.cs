using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Evaluation.Calibration;
using Cleave.Evaluation.Datasets;

namespace Cleave.Cli.Commands;

public sealed class CalibrateCommand : ICommand
{
    private static readonly string[] ImageExtensions = [".jpeg", ".jpg", ".png", ".bmp", ".webp"];

    public string Name => "calibrate";
    public string Summary => "measure the tail's sensitivity to each channel of a cut (training-free) and print rans-ifc gains";
    public string Usage => """
        usage: cleave calibrate --model M.onnx --at T --images DIR [--limit N] [--noise S] [--exponent E] [--codec SPEC] [--json]
          --model M.onnx  an image model (preprocessing from its metadata, as `cleave import` records it)
          --at T          the cut tensor (rank >= 3; channels at axis rank-3)
          --images DIR    calibration photos (.jpeg .jpg .png .bmp .webp, name order; no labels needed); keep them
                          apart from the images you evaluate on
          --limit N       only the first N images
          --noise S       noise std per channel, relative to the feature's std (default 0.35, about a 6-level grid's error)
          --exponent E    gains g_c = (w_c / geometric mean)^E (default 0.5, the high-rate optimum)
          --codec SPEC    a rans-ifc spec to append the gains to (default rans-ifc:bits=3,levels=6,clip=3,ctx=2d)
          --preprocess P  override the model's preprocessing (as in `cleave eval`)
          --json          the weights, gains and spec as JSON
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["model", "at", "images", "limit", "noise", "exponent", "codec", "preprocess"], ["json"]);
        string model = cl.Require("model");
        string tensor = cl.Require("at");
        string folder = cl.Require("images");
        int limit = cl.GetInt("limit", int.MaxValue);
        if (limit <= 0) throw new UsageException("--limit must be positive");
        double noise = cl.GetDouble("noise", 0.35);
        if (!(noise > 0 && noise <= 10)) throw new UsageException("--noise must be in (0, 10]");
        double exponent = cl.GetDouble("exponent", 0.5);
        if (!(exponent >= 0 && exponent <= 4)) throw new UsageException("--exponent must be in 0..4");
        string baseSpec = cl.Get("codec") ?? "rans-ifc:bits=3,levels=6,clip=3,ctx=2d";
        if (FeatureCodecs.Create(baseSpec) is not RansIfcCodec { Gains: null })
            throw new UsageException("--codec must be a rans-ifc spec without gains=");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' does not exist");
        var images = Directory.EnumerateFiles(folder)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).Take(limit).ToList();
        if (images.Count == 0) throw new ArgumentException($"'{folder}' holds no images ({string.Join(" ", ImageExtensions)})");
        var preprocessing = cl.Get("preprocess") is null ? null : PreprocessingOverride.ForModel(model, cl.Get("preprocess"));

        ChannelSensitivityResult result;
        using (var progress = new Progress("calibrate", images.Count))
            result = ChannelSensitivity.Measure(model, tensor, images, preprocessing, noise, progress: (i, name) => progress.Report(i, name));
        var gains = result.Gains(exponent);
        string spec = FeatureCodecs.Create(baseSpec + ",gains=" + gains).Spec;

        if (cl.Has("json"))
        {
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("tensor", result.Tensor);
                w.WriteNumber("images", result.Images);
                w.WriteNumber("noise", result.NoiseStd);
                w.WriteNumber("exponent", exponent);
                w.WriteStartArray("sensitivity");
                foreach (double s in result.Sensitivity) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("gains");
                foreach (byte code in gains.Codes) w.WriteNumberValue(ChannelGains.GainOf(code));
                w.WriteEndArray();
                w.WriteString("spec", spec);
                w.WriteEndObject();
            });
            return 0;
        }
        Console.WriteLine($"{result.Tensor} [{string.Join("x", result.Shape)}], {result.Images} images, noise {result.NoiseStd.ToString("0.###", CultureInfo.InvariantCulture)} std");
        Console.WriteLine("channel  sensitivity  gain");
        for (int c = 0; c < result.Sensitivity.Count; c++)
            Console.WriteLine($"{c,7}  {result.Sensitivity[c].ToString("0.0000", CultureInfo.InvariantCulture),11}  {ChannelGains.GainOf(gains.Codes[c]).ToString("0.###", CultureInfo.InvariantCulture)}");
        Console.WriteLine(spec);
        return 0;
    }
}
