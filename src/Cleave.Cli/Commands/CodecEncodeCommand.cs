using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Codecs.IO;
using Cleave.Codecs.Npy;

namespace Cleave.Cli.Commands;

public sealed class CodecEncodeCommand : ICommand
{
    public string Name => "codec encode";
    public string Summary => "encode a .npy tensor into a Cleave frame (.clv)";
    public string Usage => """
        usage: cleave codec encode <in.npy> --codec SPEC -o <out.clv> [--json]
          --codec SPEC   e.g. raw, fp16, bf16, quant:bits=8, quant:bits=4,per=channel, zstd:level=3 (see docs/codecs.md)
          -o, --output   frame file to write (written atomically)
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["codec", "output"], ["json"]);
        string input = cl.PositionalAt(0, "input .npy file");
        var codec = FeatureCodecs.Create(cl.Require("codec"));
        string output = cl.Require("output");

        var (values, shape) = NpyFile.ReadFloat32(input);
        byte[] frame = codec.Encode(values, shape);
        AtomicFile.WriteAllBytes(output, frame);

        double ratio = frame.Length == 0 ? 0 : 4.0 * values.Length / frame.Length;
        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("input", input);
                w.WriteString("output", output);
                w.WriteString("codec", codec.Spec);
                w.WriteString("shape", shape.ToString());
                w.WriteNumber("elements", values.Length);
                w.WriteNumber("bytes", frame.Length);
                w.WriteNumber("ratio_vs_fp32", ratio);
                w.WriteEndObject();
            });
        else
            Console.WriteLine($"{output}: {codec.Spec}, shape {shape}, {frame.Length:N0} bytes ({ratio:F2}x smaller than float32)");
        return 0;
    }
}
