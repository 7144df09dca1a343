using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Training.Data;
using Cleave.Training.Loop;
using Cleave.Training.Tasks;

namespace Cleave.Cli.Commands;

public sealed class TrainFmnistGridCommand : ICommand
{
    public string Name => "train fmnist-grid";
    public string Summary => "a grid of small Fashion-MNIST CNNs (widths x depths), each trained briefly and written as ONNX for `cleave plan --models`";
    public string Usage =>
        "usage: cleave train fmnist-grid -o DIR [--widths 8,16,32] [--depths 2,3,4] [--images N] [--test-limit N] [options] [--json]\n" +
        "  -o, --output DIR    where fmnist-wW-dD.onnx (one per grid point) and the test image folder DIR/test go\n" +
        "  --widths W,W        channels of the first stage (default 8,16,32); stages 2 and 3 halve the resolution and double them\n" +
        "  --depths D,D        conv-BN-ReLU stages (default 2,3,4), then global pooling and a linear layer\n" +
        "  --images N          test images written as grey PNGs + labels.csv to DIR/test, for `cleave plan --data` (default 10000)\n" +
        "  --test-limit N      score top-1 on the first N test images only (default all 10,000)\n" +
        "  --limit N           first N training images only\n" +
        TrainCommand.TrainingOptionsHelp +
        "Every grid point trains with the same options and seed. Prints per model: parameters, test top-1, seconds.\n";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. TrainCommand.TrainingValueOptions, "output", "widths", "depths", "images", "test-limit", "limit"], ["json", "resume", "augment"]);
        if (cl.Has("augment")) throw new UsageException("--augment is for image folders; the grid trains on Fashion-MNIST as it is");
        if (cl.Has("checkpoint")) throw new UsageException("--checkpoint names one file; the grid trains several networks (each takes seconds to minutes)");
        var inv = CultureInfo.InvariantCulture;
        var request = new FashionMnistGridRequest
        {
            Widths = cl.Get("widths") is string w ? PlanOptionParsing.ParseList(w, x => int.Parse(x, inv)) : [8, 16, 32],
            Depths = cl.Get("depths") is string d ? PlanOptionParsing.ParseList(d, x => int.Parse(x, inv)) : [2, 3, 4],
            Limit = cl.GetInt("limit", 0),
            TestLimit = cl.GetInt("test-limit", 0),
            Options = TrainCommand.ParseTrainingOptions(cl),
            OutputDirectory = cl.Require("output"),
        };
        int images = cl.GetInt("images", 10000);
        if (images < 1) throw new UsageException("--images must be positive");
        IReadOnlyList<FashionMnistGridPoint> points;
        int written;
        try
        {
            request.Validate();
            written = FashionMnistImageFolder.Write(FashionMnist.Load(test: true, limit: images), Path.Combine(request.OutputDirectory, "test"), images);
            points = FashionMnistGrid.Run(request, message => Console.Error.WriteLine($"train fmnist-grid: {message}"));
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine($"cleave train: {e.Message}");
            return 1;
        }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (cl.Has("json"))
            Json.Write(wr =>
            {
                wr.WriteStartObject();
                wr.WriteString("kind", "fmnist-grid");
                wr.WriteString("test_images", Path.GetFullPath(Path.Combine(request.OutputDirectory, "test")));
                wr.WriteNumber("test_images_written", written);
                wr.WriteStartArray("models");
                foreach (var p in points)
                {
                    wr.WriteStartObject();
                    wr.WriteString("name", p.Name);
                    wr.WriteString("path", p.ModelPath);
                    wr.WriteNumber("width", p.Width);
                    wr.WriteNumber("depth", p.Depth);
                    wr.WriteNumber("parameters", p.Parameters);
                    wr.WriteNumber("test_top1", p.TestTop1);
                    wr.WriteNumber("test_images", p.TestImages);
                    wr.WriteNumber("seconds", p.Seconds);
                    TrainCommand.WriteSummary(wr, p.Training);
                    wr.WriteEndObject();
                }
                wr.WriteEndArray();
                wr.WriteEndObject();
            });
        else
        {
            Console.WriteLine("| model | width | depth | parameters | test top-1 | seconds |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var p in points)
                Console.WriteLine(string.Create(inv, $"| {p.Name} | {p.Width} | {p.Depth} | {p.Parameters:N0} | {100 * p.TestTop1:0.00}% ({p.TestImages:N0} images) | {p.Seconds:0} |"));
            Console.WriteLine($"models: \"{string.Join(';', points.Select(p => p.ModelPath))}\"");
            Console.WriteLine($"test images: {Path.Combine(request.OutputDirectory, "test")} ({written})");
        }
        return 0;
    }
}
