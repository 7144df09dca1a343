using System.Globalization;
using System.Text;
using System.Text.Json;
using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Client;
using Cleave.Runtime.Generation;

namespace Cleave.Cli.Commands;

public sealed class GenerateCommand : ICommand
{
    public string Name => "generate";
    public string Summary => "generate text with an imported language model: whole, or split with a codec at the cut (in-process or against `cleave serve-lm`)";
    public string Usage => $"""
        usage: cleave generate --model DIR (--local | --server URL[,URL...]) [--split-layer K] [--codec SPEC] [--prompt TEXT] [--max-tokens N]
                               [--temperature T] [--top-k K] [--seed S] [--client-samples] [--sessions N [--compare-serial] [--rounds R]] [--batch-decode on|off|auto]
                               [--compact-steps on|off] [--retries N] [--deadline-ms T] [--json]
                               [--api-key-file F] [--client-cert F.pfx] [--insecure]
          --model DIR            folder written by `cleave import <checkpoint.bin> --tokenizer ... -o DIR --splits`
          --local                run in this process: the whole model, or with --split-layer the split with an in-process server
          --server URL           split generation against `cleave serve-lm` (e.g. http://127.0.0.1:50061); needs --split-layer.
                                 URL,URL,... : the front ends of a cluster's silos; a call whose connection fails goes to the next
          --split-layer K        the client runs the embedding and layers < K
          --codec SPEC           how each step's hidden states cross: a frame codec (raw, fp16, quant:bits=8,...) or the
                                 per-session token codec tq:levels=L,clip=K (default raw); tq:levels=L,clip=K,predict=token
                                 sends the steps after a server-sampled token as residuals around that token's mean
                                 (the split's predict_k.bin: import --prediction-tokens; the server needs the same table)
          --prompt TEXT          text to continue (default: empty, i.e. start from BOS)
          --max-tokens N         new tokens at most (default 256; stops earlier at BOS or the model's seq_len)
          --temperature T        0 = greedy (default); --top-k K keeps the K largest logits; --seed S makes sampling repeatable
          --top-k K              sample among the K largest logits only (with --temperature above 0)
          --seed S               random seed of the sampling (runs repeat exactly)
          --compare-serial       with --sessions: also run the sessions one at a time, to compare throughput
          --client-samples       the server returns its top logits and the client draws the token
          --sessions N           N sessions at once against the server (reports tokens/s); --compare-serial also runs them one at a time;
                                 --rounds R alternates both R times and keeps the best of each
          --batch-decode on|off|auto  with --local: the in-process server batches concurrent decode steps (serve-lm takes the same option)
          --compact-steps on|off one-token steps in the compact form (step handle, position, payload) when the server grants
                                 it at open (default on; off sends the full step message, as before)
          --json                 print the result as JSON
          --insecure             with an https --server: accept any TLS certificate (self-signed development servers)
        {SecurityOptionParsing.ClientHelp}
        With --server, a server that cannot be reached (killed, restarting) or is busy is retried with jittered backoff,
        and the session resumes by replaying its history into whichever server answers (greedy output is unchanged):
        {RetryOptionParsing.Help}
        A server that does not come back before the deadline ends the run with one error line and exit status 1.
        Split generation streams the text and ends with uplink/downlink bits per token and client/server ms per token.
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["model", "prompt", "max-tokens", "split-layer", "codec", "server", "temperature", "top-k", "seed", "sessions", "rounds", "batch-decode", "compact-steps", .. RetryOptionParsing.Options, .. SecurityOptionParsing.ClientValueOptions],
            ["local", "json", "client-samples", "compare-serial", "insecure"]);
        if (cl.Positional.Count > 0) throw new UsageException($"unexpected argument '{cl.Positional[0]}'");
        string directory = cl.Require("model");
        bool local = cl.Has("local");
        string? server = cl.Get("server");
        if (local == (server is not null)) throw new UsageException("give either --local or --server URL");
        int maxTokens = cl.GetInt("max-tokens", 256);
        if (maxTokens < 0) throw new UsageException("--max-tokens must be 0 or more");
        string prompt = cl.Get("prompt") ?? "";
        int splitLayer = cl.GetInt("split-layer", 0);
        if (server is not null && splitLayer <= 0) throw new UsageException("--server needs --split-layer K");
        if (splitLayer <= 0 && (cl.Has("codec") || cl.Has("sessions") || cl.Has("client-samples")))
            throw new UsageException("--codec, --sessions and --client-samples apply to split generation: give --split-layer K");

        LlamaModelFolder model;
        try
        {
            model = LlamaModelFolder.Open(directory);
        }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"cleave generate: {CliErrors.Describe(e, server?.Split(',')[0].TrimEnd('/'), "serve-lm")}");
            return 1;
        }
        if (splitLayer <= 0) return RunWhole(model, prompt, maxTokens, cl.Has("json"));

        if (splitLayer >= model.Config.Layers) throw new UsageException($"--split-layer must be 1..{model.Config.Layers - 1}");
        var sampling = new SamplingSettings((float)cl.GetDouble("temperature", 0), cl.GetInt("top-k", 0), (ulong)cl.GetInt("seed", 0));
        if (sampling.Temperature < 0 || sampling.TopK < 0) throw new UsageException("--temperature and --top-k must be 0 or more");
        string codecSpec = cl.Get("codec") ?? "raw";
        var codec = TokenPredictionTableFile.SenderCodec(codecSpec, model, splitLayer, () => TokenCodecCalibration.SelfGeneratedRows(model, splitLayer));
        int sessions = cl.GetInt("sessions", 1);
        if (sessions < 1) throw new UsageException("--sessions must be positive");
        var retry = RetryOptionParsing.Parse(cl);

        GenerationEngine? engine = null;
        IGenerationTransport transport;
        if (local)
        {
            engine = new GenerationEngine(new GenerationOptions
            {
                ModelDirectory = model.Directory, SplitLayer = splitLayer,
                BatchDecode = cl.GetOnOffAuto("batch-decode"),
            });
            transport = new InProcessGenerationTransport(engine);
        }
        else
        {
            transport = new GenerationClient(ServerAddressParsing.Parse(server!), SecurityOptionParsing.ParseClient(cl), cl.Has("insecure"));
        }
        try
        {
            // One intra-op thread: a d = 64 head gains nothing from more, and spinning pool threads of many concurrent
            // sessions would starve the server on a small machine.
            using var headOptions = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            using var head = new KvCacheModel(Path.Combine(model.Directory, Llama2cExport.HeadFile(splitLayer)), headOptions);
            int[] promptTokens = model.Tokenizer.Encode(prompt, bos: true);
            bool json = cl.Has("json");
            bool compactSteps = cl.GetOnOffAuto("compact-steps") ?? true;
            if (sessions > 1) return RunMany(model, head, splitLayer, codec, transport, retry, compactSteps, promptTokens, maxTokens, sampling, cl.Has("client-samples"), sessions, cl.Has("compare-serial"), cl.GetInt("rounds", 1), json);

            // The prompt is echoed with the first generated token, so a server that cannot be reached prints only the error.
            var text = new StreamingText(model.Tokenizer, promptTokens[^1], json ? null : Console.Out, prompt);
            var generator = new SplitGenerator(head, model.Config, splitLayer, codec, transport) { OnToken = text.Add, Retry = retry, CompactSteps = compactSteps };
            var result = generator.GenerateAsync(promptTokens, maxTokens, sampling, cl.Has("client-samples")).GetAwaiter().GetResult();
            string full = model.Tokenizer.Decode([.. result.PromptTokens[1..], .. result.GeneratedTokens], afterBos: true);
            text.Finish();
            if (json)
            {
                Json.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("model", model.Directory);
                    w.WriteString("mode", local ? "local-split" : "server");
                    w.WriteNumber("split_layer", splitLayer);
                    w.WriteString("prompt", prompt);
                    w.WriteString("text", full);
                    WriteResult(w, codec, result);
                    w.WriteEndObject();
                });
                return 0;
            }
            Console.WriteLine();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"({result.PromptTokens.Length} prompt + {result.GeneratedTokens.Length} generated tokens, {result.TokensPerSecond:F0} tokens/s; codec {codec.Spec}: " +
                $"uplink {result.UplinkBitsPerToken:F1} bits/token ({result.SessionStateBytes} B session state), downlink {result.DownlinkBitsPerToken:F1} bits/token; " +
                $"client {result.ClientMsPerToken:F3} ms/token, server {result.ServerMsPerToken:F3} ms/token{(result.Resumes > 0 ? $", {result.Resumes} resumes" : "")}" +
                $"{(result.Retries > 0 ? $", {result.Retries} retries ({result.Reconnects} while the server was unreachable) over {result.RetrySeconds:F1} s" : "")})"));
            return 0;
        }
        catch (Exception e) when (e is GenerationUnavailableException or GenerationException)
        {
            // A server that never came back, or refused: one clear line, not a stack trace.
            Console.Out.Flush();
            Console.Error.WriteLine();
            Console.Error.WriteLine($"cleave generate: {CliErrors.Describe(e, server?.Split(',')[0].TrimEnd('/'), "serve-lm")}");
            return 1;
        }
        finally
        {
            engine?.Dispose();
            (transport as IDisposable)?.Dispose();
        }
    }

    private static int RunMany(LlamaModelFolder model, KvCacheModel head, int splitLayer, TokenStreamCodec codec, IGenerationTransport transport,
        RetryPolicy retry, bool compactSteps, int[] prompt, int maxTokens, SamplingSettings sampling, bool clientSamples, int sessions, bool compareSerial, int rounds, bool json)
    {
        Task<SplitGenerationResult> One(int i) =>
            new SplitGenerator(head, model.Config, splitLayer, codec, transport) { Retry = retry, CompactSteps = compactSteps }.GenerateAsync(prompt, maxTokens, sampling with { Seed = sampling.Seed + (ulong)i }, clientSamples);
        // Rounds alternate (at once, one at a time, ...) and the best of each is kept, so a burst of load from other
        // processes on a shared machine does not decide the comparison.
        GenerationLoad.Outcome? concurrent = null, serial = null;
        for (int round = 0; round < rounds; round++)
        {
            var c = GenerationLoad.RunAsync(sessions, One, concurrent: true).GetAwaiter().GetResult();
            if (concurrent is null || c.TokensPerSecond > concurrent.TokensPerSecond) concurrent = c;
            if (!compareSerial) continue;
            var s = GenerationLoad.RunAsync(sessions, One, concurrent: false).GetAwaiter().GetResult();
            if (serial is null || s.TokensPerSecond > serial.TokensPerSecond) serial = s;
        }
        var atOnce = concurrent ?? throw new UsageException("--rounds must be positive");
        if (json)
        {
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("sessions", sessions);
                w.WriteNumber("split_layer", splitLayer);
                w.WriteString("codec", codec.Spec);
                w.WriteNumber("rounds", rounds);
                WriteLoad(w, "concurrent", atOnce);
                if (serial is not null)
                {
                    WriteLoad(w, "serial", serial);
                    w.WriteNumber("speedup", atOnce.TokensPerSecond / serial.TokensPerSecond);
                }
                w.WriteStartArray("texts");
                foreach (var s in atOnce.Sessions) w.WriteStringValue(model.Tokenizer.Decode([.. s.PromptTokens[1..], .. s.GeneratedTokens]));
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{sessions} sessions at once: {atOnce.GeneratedTokens} tokens in {atOnce.Elapsed.TotalSeconds:F2} s, {atOnce.TokensPerSecond:F0} steps/s"));
        if (serial is not null)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"one at a time:        {serial.GeneratedTokens} tokens in {serial.Elapsed.TotalSeconds:F2} s, {serial.TokensPerSecond:F0} steps/s; speedup {atOnce.TokensPerSecond / serial.TokensPerSecond:F2}x"));
        return 0;
    }

    private static void WriteLoad(Utf8JsonWriter w, string name, GenerationLoad.Outcome outcome)
    {
        w.WriteStartObject(name);
        w.WriteNumber("generated_tokens", outcome.GeneratedTokens);
        w.WriteNumber("steps", outcome.Sessions.Sum(s => s.Steps));
        w.WriteNumber("seconds", outcome.Elapsed.TotalSeconds);
        w.WriteNumber("steps_per_second", outcome.TokensPerSecond);
        w.WriteNumber("server_ms_per_token", outcome.Sessions.Sum(s => s.ServerMs) / Math.Max(1, outcome.Sessions.Sum(s => s.Steps)));
        w.WriteEndObject();
    }

    private static void WriteResult(Utf8JsonWriter w, TokenStreamCodec codec, SplitGenerationResult r)
    {
        w.WriteString("codec", codec.Spec);
        w.WriteNumber("prompt_tokens", r.PromptTokens.Length);
        w.WriteNumber("generated_tokens", r.GeneratedTokens.Length);
        w.WriteStartArray("tokens");
        foreach (int t in r.GeneratedTokens) w.WriteNumberValue(t);
        w.WriteEndArray();
        w.WriteNumber("session_state_bytes", r.SessionStateBytes);
        w.WriteNumber("uplink_bits_per_token", r.UplinkBitsPerToken);
        w.WriteNumber("uplink_message_bits_per_token", r.UplinkMessageBitsPerToken);
        w.WriteBoolean("compact_steps", r.CompactSteps);
        w.WriteNumber("downlink_bits_per_token", r.DownlinkBitsPerToken);
        w.WriteNumber("client_ms_per_token", r.ClientMsPerToken);
        w.WriteNumber("server_ms_per_token", r.ServerMsPerToken);
        w.WriteNumber("resumes", r.Resumes);
        w.WriteNumber("retries", r.Retries);
        w.WriteNumber("reconnects", r.Reconnects);
        w.WriteNumber("retry_seconds", r.RetrySeconds);
        w.WriteNumber("seconds", r.Elapsed.TotalSeconds);
        w.WriteNumber("tokens_per_second", r.TokensPerSecond);
    }

    private static int RunWhole(LlamaModelFolder model, string prompt, int maxTokens, bool json)
    {
        using var session = model.CreateSession();
        var result = model.Generate(session, prompt, maxTokens);
        if (json)
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

    /// <summary>Writes <paramref name="prefix"/> (the prompt) with the first token, then each token's text as it arrives (whole UTF-8 sequences only).</summary>
    private sealed class StreamingText(Llama2cTokenizer tokenizer, int previous, TextWriter? output, string prefix)
    {
        private readonly List<byte> _pending = [];
        private int _previous = previous;
        private bool _started;

        /// <summary>Writes the prefix if no token did (a generation that produced none).</summary>
        public void Finish()
        {
            if (output is null || _started) return;
            _started = true;
            output.Write(prefix);
        }

        public void Add(int token)
        {
            if (output is null) return;
            Finish();
            _pending.AddRange(tokenizer.DecodePiece(_previous, token));
            _previous = token;
            var decoder = Encoding.UTF8;
            string text = decoder.GetString([.. _pending]);
            if (text.Contains('\uFFFD') && _pending.Count < 4) return; // wait for the rest of a multi-byte character
            _pending.Clear();
            output.Write(text);
            output.Flush();
        }
    }
}
