using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Text;

namespace Cleave.Cli.Commands;

public sealed class GenerateCommand : ICommand
{
    public string Name => "generate";
    public string Summary => "generate text greedily with an imported language model (cleave import <checkpoint.bin>)";
    public string Usage => """
        usage: cleave generate --model DIR --local [--prompt TEXT] [--max-tokens N] [--json]
          --model DIR            folder written by `cleave import <checkpoint.bin> --tokenizer ... -o DIR`
          --local                run the whole model in this process (split generation over the network comes later)
          --prompt TEXT          text to continue (default: empty, i.e. start from BOS)
          --max-tokens N         new tokens at most (default 256; stops earlier at BOS or the model's seq_len)
          --json                 print the result as JSON
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["model", "prompt", "max-tokens"], ["local", "json"]);
        if (cl.Positional.Count > 0) throw new UsageException($"unexpected argument '{cl.Positional[0]}'");
        string directory = cl.Require("model");
        if (!cl.Has("local")) throw new UsageException("only --local generation is available so far");
        int maxTokens = cl.GetInt("max-tokens", 256);
        if (maxTokens < 0) throw new UsageException("--max-tokens must be 0 or more");
        string prompt = cl.Get("prompt") ?? "";

        LlamaModelFolder model;
        try
        {
            model = LlamaModelFolder.Open(directory);
        }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"cleave generate: {e.Message}");
            return 1;
        }
        using var session = model.CreateSession();
        var result = model.Generate(session, prompt, maxTokens);

        if (cl.Has("json"))
        {
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("model", model.Directory);
                w.WriteString("mode", "local");
                w.WriteString("prompt", prompt);
                w.WriteString("text", result.Text);
                w.WriteNumber("prompt_tokens", result.PromptTokens.Length);
                w.WriteNumber("generated_tokens", result.GeneratedTokens.Length);
                w.WriteStartArray("tokens");
                foreach (int t in result.GeneratedTokens) w.WriteNumberValue(t);
                w.WriteEndArray();
                w.WriteNumber("seconds", result.Elapsed.TotalSeconds);
                w.WriteNumber("tokens_per_second", result.TokensPerSecond);
                w.WriteEndObject();
            });
            return 0;
        }

        Console.WriteLine(result.Text);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"({result.PromptTokens.Length} prompt + {result.GeneratedTokens.Length} generated tokens, {result.TokensPerSecond:F0} tokens/s)"));
        return 0;
    }
}
