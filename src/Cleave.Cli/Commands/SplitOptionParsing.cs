using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Splitting;

namespace Cleave.Cli.Commands;

/// <summary>Options <c>inspect</c> and <c>split</c> share: <c>--side-inputs a,b</c>, <c>--dims name=value,...</c>, <c>--threads N</c>.</summary>
internal static class SplitOptionParsing
{
    public static readonly string[] ValueOptions = ["side-inputs", "dims", "threads"];

    public const string Help =
        "  --side-inputs a,b   graph inputs both halves may read (default: integer inputs named like *mask*, *position_ids*, *token_type_ids*; 'none' for none)\n" +
        "  --dims T=64,...     values for symbolic input dimensions (default: first axis 1, image height/width 224, others 16)\n" +
        "  --threads N         ONNX Runtime intra-op threads (default: ONNX Runtime's choice)";

    public static SplitOptions Parse(CommandLine cl)
    {
        IReadOnlyCollection<string>? sides = cl.Get("side-inputs") switch
        {
            null => null,
            "none" or "" => [],
            string s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
        Dictionary<string, long>? dims = null;
        if (cl.Get("dims") is string d)
        {
            dims = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (string pair in d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = pair.IndexOf('=');
                if (eq <= 0 || !long.TryParse(pair[(eq + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) || v < 1)
                    throw new UsageException($"--dims expects name=positive-integer pairs, got '{pair}'");
                dims[pair[..eq]] = v;
            }
        }
        int threads = cl.GetInt("threads", 0);
        if (threads < 0) throw new UsageException("--threads must be 0 or more");
        return new SplitOptions { SideInputs = sides, SymbolValues = dims, IntraOpThreads = threads };
    }
}
