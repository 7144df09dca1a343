using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Codecs.Npy;

namespace Cleave.Cli.Commands;

public sealed class CodecDecodeCommand : ICommand
{
    public string Name => "codec decode";
    public string Summary => "decode a Cleave frame (.clv) into a float32 .npy tensor";
    public string Usage => """
        usage: cleave codec decode <in.clv> -o <out.npy> [--max-mb N] [--json]
          -o, --output   .npy file to write (written atomically)
          --max-mb N     refuse frames whose tensor exceeds N MiB as float32 (default 256)
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["output", "max-mb"], ["json"]);
        string input = cl.PositionalAt(0, "input .clv file");
        string output = cl.Require("output");
        int maxMb = cl.GetInt("max-mb", (int)(DecodeLimits.DefaultMaxDecodedBytes >> 20));
        if (maxMb <= 0) throw new UsageException("--max-mb must be positive");
        var limits = new DecodeLimits { MaxDecodedBytes = (long)maxMb << 20 };

        byte[] frame = File.ReadAllBytes(input);
        var header = FeatureFrame.ReadHeader(frame, limits);
        string spec = FeatureFrame.ReadCodec(frame, header).Spec;
        float[] values = FeatureFrame.Decode(frame, out var shape, limits);
        NpyFile.WriteFloat32(output, values, shape);

        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("input", input);
                w.WriteString("output", output);
                w.WriteString("codec", spec);
                w.WriteString("shape", shape.ToString());
                w.WriteNumber("bytes", frame.Length);
                w.WriteEndObject();
            });
        else
            Console.WriteLine($"{output}: shape {shape} from {frame.Length:N0} bytes of {spec}");
        return 0;
    }
}
