using Cleave.Codecs;
using Cleave.Codecs.Analysis.Fuzzing;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using Google.Protobuf;

namespace Cleave.Runtime.Hostile;

/// <summary>
/// The protocol campaign: random and mutated messages — Hello, InferRequest and Ping of the split protocol, Open (with
/// history), Step and Close of generation — fed one at a time to the objects the gRPC handlers call with them:
/// <see cref="ServingState.Handshake"/>, the backend's <see cref="InferenceBackend.Prepare"/> and the batcher (the tail
/// really runs) for split messages, and <see cref="GenerationEngine"/> for generation. A quarter of the cases are
/// valid messages serialized, mutated as bytes and parsed again, as a hostile client's bytes reach the server; one
/// that does not parse is what gRPC refuses before any handler runs. Allowed outcomes: a typed error in the answer,
/// <see cref="SplitInferenceException"/> from the decode (the handler turns it into an error reply), and
/// <see cref="InvalidProtocolBufferException"/> from parsing; anything else thrown is unexpected.
/// </summary>
public sealed class ProtocolFuzzer
{
    public const double CaseLimitMs = 100;

    /// <summary>Untimed cases that run before the timed ones.</summary>
    public const int WarmUpCases = 2_000;

    /// <summary>Per case, the whole process counted: messages are at most a few hundred KiB, a step's tensors a few hundred.</summary>
    public const long AllocationLimitBytes = 16L << 20;

    private static readonly uint[] TokenCounts = [0, 1, 2, 3, 7, 64, 255, 256, 511, 512, 513, 1024, 65_536, 16_777_216, 0x7FFF_FFFF, 0x8000_0000, 0xFF00_0004, uint.MaxValue];
    private static readonly string[] CodecSpecs = ["raw", "fp16", "bf16", "quant:bits=8", "quant:bits=4,entropy=rans", "rans-ifc:bits=8", "zstd:level=1", "slicer:keep=0.5", "", "raw:x=1", "quant:bits=99", "tq:levels=0", "tq:levels=16,clip=4", "\u0000", "rans-ifc:bits=3,levels=6,clip=3,ctx=2d", new string('q', 300)];

    private readonly Random _random;
    private readonly GenerationEngine? _engine;
    private readonly ServingState? _serving;
    private readonly string? _splitMode;
    private readonly FrameMutator? _splitFrames;
    private readonly byte[] _tqState;
    private readonly List<(string Id, uint Position, uint Handle)> _sessions = [];

    public ProtocolFuzzer(GenerationEngine? engine, ServingState? serving, int seed = 20261202)
    {
        if (engine is null && serving is null) throw new ArgumentException("give a generation engine, a serving state, or both");
        _engine = engine;
        _serving = serving;
        _random = new Random(seed);
        if (serving is not null)
        {
            _splitMode = serving.Modes.Contains(ServingModes.Split) ? ServingModes.Split : serving.Modes.First();
            _splitFrames = new FrameMutator(SplitSeeds(serving.Backend(_splitMode)));
        }
        int dim = engine?.HiddenWidth ?? 8;
        _tqState = TokenStreamCodec.ForSender("tq:levels=16,clip=4", dim, () => SyntheticTensors.Gaussian(dim * 32, seed: 3)).SessionState.ToArray();
    }

    public static FuzzReport Run(GenerationEngine? engine, ServingState? serving, int cases, int seed = 20261202, IProgress<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cases);
        // Untimed warm-up from another seed: the first message of each kind pays for JIT compilation and ONNX Runtime's
        // first runs, which says nothing about what a hostile message costs a running server.
        var warmUp = new ProtocolFuzzer(engine, serving, ~seed);
        for (int i = 0; i < WarmUpCases; i++)
        {
            try { warmUp.Deliver(warmUp.NextMessage()); }
            catch (SplitInferenceException) { } // expected; anything else surfaces in the timed cases
        }
        var fuzzer = new ProtocolFuzzer(engine, serving, seed);
        var tally = new FuzzTally("protocol", cases, CaseLimitMs, AllocationLimitBytes, AllocationScope.Process);
        for (int i = 0; i < cases; i++)
        {
            var message = fuzzer.NextMessage();
            tally.Run(() => fuzzer.Deliver(message), e => e is SplitInferenceException s ? $"split {s.Code}" : null, () => Describe(message));
            if (progress is not null && (i + 1) % 10_000 == 0) progress.Report(i + 1);
        }
        return tally.Finish();
    }

    /// <summary>A message as a client could send it: one of the typed ones, or bytes that may not even parse.</summary>
    public object NextMessage()
    {
        int kind = _random.Next(_serving is null ? 3 : _engine is null ? 3 : 6);
        bool generation = _engine is not null && (_serving is null || kind >= 3);
        object message = generation ? (kind % 3) switch { 0 => RandomOpen(), 1 => RandomStep(), _ => _random.Next(4) == 0 ? RandomClose() : RandomStep() }
            : (kind % 3) switch { 0 => new ClientMessage { Hello = RandomHello() }, 1 => new ClientMessage { Request = RandomRequest() }, _ => new ClientMessage { Ping = new Ping { Nonce = (ulong)_random.NextInt64() } } };
        if (_random.Next(4) != 0) return message;
        // As bytes: mutated after serialization, parsed again by the receiver.
        byte[] wire = FrameMutator.Mutate(((IMessage)message).ToByteArray(), _random);
        return new WireBytes(message.GetType(), wire);
    }

    /// <summary>Hands one message to the handler logic; returns its outcome (the typed error code, or what it got).</summary>
    public string Deliver(object message)
    {
        if (message is WireBytes wire)
        {
            try
            {
                message = Parse(wire);
            }
            catch (InvalidProtocolBufferException)
            {
                return "unparseable (refused by gRPC)";
            }
        }
        return message switch
        {
            ClientMessage { KindCase: ClientMessage.KindOneofCase.Hello } m => Hello(m.Hello),
            ClientMessage { KindCase: ClientMessage.KindOneofCase.Request } m => Infer(m.Request),
            ClientMessage { KindCase: ClientMessage.KindOneofCase.Ping } => "pong",
            ClientMessage => "split NOT_HANDSHAKEN (empty message)",
            OpenSessionRequest open => Open(open),
            StepRequest step => Step(step),
            CloseSessionRequest close => _engine!.Close(close).Closed ? "closed" : "close: not open",
            _ => throw new InvalidOperationException($"no handler for {message.GetType().Name}"),
        };
    }

    private static object Parse(WireBytes wire) =>
        wire.Type == typeof(ClientMessage) ? ClientMessage.Parser.ParseFrom(wire.Bytes)
        : wire.Type == typeof(OpenSessionRequest) ? OpenSessionRequest.Parser.ParseFrom(wire.Bytes)
        : wire.Type == typeof(StepRequest) ? StepRequest.Parser.ParseFrom(wire.Bytes)
        : CloseSessionRequest.Parser.ParseFrom(wire.Bytes);

    private string Hello(Hello hello)
    {
        var (welcome, mode) = _serving!.Handshake(hello);
        return mode is null ? $"split {welcome.Error?.Code}" : "welcome";
    }

    /// <summary>What the stream handler does with a request: the id and size checks, the decode, then the batcher and the tail.</summary>
    private string Infer(InferRequest request)
    {
        if (request.RequestId.Length == 0) return "split INVALID_REQUEST (no id)";
        if (request.Payload.Length > _serving!.Options.MaxMessageBytes) return "split MESSAGE_TOO_LARGE";
        var backend = _serving.Backend(_splitMode!);
        var item = new BatchItem(backend.SampleElements, CancellationToken.None);
        try { backend.Prepare(request.Payload.Memory, item.Input); }
        catch
        {
            item.ReleaseInput();
            throw;
        }
        if (!_serving.Batcher(_splitMode!).TryEnqueue(item))
        {
            item.ReleaseInput();
            return "split RESOURCE_EXHAUSTED";
        }
        var result = item.Completion.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        return result.OutputLength > 0 ? "answered" : "answered empty";
    }

    private string Open(OpenSessionRequest request)
    {
        var response = _engine!.OpenAsync(request).WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        if (response.Error is { } error) return $"open {error.Code}";
        if (_sessions.Count >= 64) _sessions.RemoveAt(_random.Next(_sessions.Count));
        _sessions.Add((response.SessionId, response.Position, response.StepHandle));
        return "opened";
    }

    private string Step(StepRequest request)
    {
        var response = _engine!.StepAsync(request).WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        if (response.Error is { } error) return $"step {error.Code}";
        if (!request.Packed.IsEmpty && CompactStep.TryUnpack(request.Packed.Span, out uint handle, out uint packedPosition, out _, out _))
        {
            int byHandle = _sessions.FindIndex(s => s.Handle == handle);
            if (byHandle >= 0) _sessions[byHandle] = _sessions[byHandle] with { Position = packedPosition + 1 };
            return "stepped";
        }
        int at = _sessions.FindIndex(s => s.Id == request.SessionId);
        if (at >= 0) _sessions[at] = _sessions[at] with { Position = request.Position + request.Tokens };
        return "stepped";
    }

    private Hello RandomHello()
    {
        var backend = _serving!.Backend(_splitMode!);
        var hello = new Hello
        {
            ClientId = _random.Next(3) == 0 ? "" : RandomText(40),
            ManifestHash = _random.Next(3) switch { 0 => backend.ModelHash, 1 => "", _ => RandomText(70) },
            Mode = _random.Next(4) switch { 0 => "", 1 => ServingModes.Split, 2 => ServingModes.Full, _ => RandomText(12) },
            SplitId = _random.Next(4) == 0 ? RandomText(20) : "",
        };
        for (int i = _random.Next(5); i > 0; i--) hello.Codecs.Add(RandomSpec());
        return hello;
    }

    private InferRequest RandomRequest() => new()
    {
        RequestId = _random.Next(8) == 0 ? "" : RandomText(16),
        Payload = ByteString.CopyFrom(_random.Next(3) == 0 ? _splitFrames!.Seeds[_random.Next(_splitFrames.Seeds.Count)] : _splitFrames!.Next(_random)),
        TopK = _random.Next(4) == 0 ? (uint)_random.NextInt64(0, 1L << 32) : (uint)_random.Next(10),
        ReturnTensor = _random.Next(2) == 0,
    };

    private OpenSessionRequest RandomOpen()
    {
        var config = _engine!.Config;
        var open = new OpenSessionRequest
        {
            ModelSha256 = _random.Next(4) switch { 0 => "", 1 => RandomText(64), _ => config.SourceSha256 },
            SplitLayer = _random.Next(5) == 0 ? (uint)_random.NextInt64(0, 1L << 32) : (uint)_engine.SplitLayer,
            Codec = _random.Next(3) == 0 ? RandomSpec() : _random.Next(3) == 0 ? "tq:levels=16,clip=4" : "raw",
            Sampling = _random.Next(3) == 0 ? null : new Sampling
            {
                Temperature = _random.Next(4) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => -1, _ => (float)_random.NextDouble() },
                TopK = _random.Next(3) == 0 ? uint.MaxValue : (uint)_random.Next(50),
                Seed = (ulong)_random.NextInt64(),
                ClientSamples = _random.Next(2) == 0,
                ReturnTopLogits = _random.Next(3) == 0 ? uint.MaxValue : (uint)_random.Next(100),
            },
        };
        open.CompactSteps = _random.Next(2) == 0;
        if (open.Codec.StartsWith("tq", StringComparison.Ordinal) || _random.Next(8) == 0)
            open.CodecState = ByteString.CopyFrom(_random.Next(3) == 0 ? FrameMutator.Mutate(_tqState, _random) : _tqState);
        if (_random.Next(2) == 0)
        {
            open.ResumeSessionId = _random.Next(3) == 0 && _sessions.Count > 0 ? _sessions[_random.Next(_sessions.Count)].Id : RandomText(12);
            for (int i = _random.Next(4); i > 0; i--)
            {
                uint tokens = _random.Next(2) == 0 ? (uint)_random.Next(1, 5) : TokenCounts[_random.Next(TokenCounts.Length)];
                open.History.Add(new HistoryChunk { Tokens = tokens, Payload = ByteString.CopyFrom(StepPayload(tokens)) });
            }
        }
        return open;
    }

    private StepRequest RandomStep()
    {
        bool known = _sessions.Count > 0 && _random.Next(4) != 0;
        var (id, position, handle) = known ? _sessions[_random.Next(_sessions.Count)] : (RandomText(12), 0u, (uint)_random.NextInt64(0, 1L << 32));
        if (_random.Next(3) == 0)
        {
            // The compact form (docs/protocol.md): a known or random handle, sometimes the wrong position, now and then
            // mutated bytes, and now and then with a full-form field set beside it.
            byte[] packed = CompactStep.Pack(handle == 0 ? 1 : handle, _random.Next(4) != 0 ? position : (uint)_random.Next(600), StepPayload(1));
            var compact = new StepRequest { Packed = ByteString.CopyFrom(_random.Next(4) == 0 ? FrameMutator.Mutate(packed, _random) : packed) };
            if (_random.Next(8) == 0) compact.SessionId = id;
            return compact;
        }
        uint tokens = _random.Next(3) != 0 ? (uint)_random.Next(1, 4) : TokenCounts[_random.Next(TokenCounts.Length)];
        return new StepRequest
        {
            SessionId = id,
            Position = _random.Next(4) != 0 ? position : _random.Next(2) == 0 ? uint.MaxValue : (uint)_random.Next(600),
            Tokens = tokens,
            Payload = ByteString.CopyFrom(StepPayload(tokens)),
        };
    }

    private CloseSessionRequest RandomClose()
    {
        string id = _sessions.Count > 0 && _random.Next(2) == 0 ? _sessions[_random.Next(_sessions.Count)].Id : RandomText(12);
        _sessions.RemoveAll(s => s.Id == id);
        return new CloseSessionRequest { SessionId = id };
    }

    /// <summary>A raw frame of [T, d] for a small T (valid for a raw session), mutated or shortened now and then.</summary>
    private byte[] StepPayload(uint tokens)
    {
        int d = _engine!.HiddenWidth;
        int rows = tokens is >= 1 and <= 8 ? (int)tokens : 1 + _random.Next(4);
        byte[] frame = RawCodec.Instance.Encode(SyntheticTensors.Gaussian(rows * d, seed: _random.Next()), new TensorShape(rows, d));
        return _random.Next(5) switch
        {
            0 => FrameMutator.Mutate(frame, _random),
            1 => frame.AsSpan(0, _random.Next(frame.Length)).ToArray(),
            _ => frame,
        };
    }

    private string RandomSpec() => _random.Next(3) == 0 ? RandomText(_random.Next(1, 40)) : CodecSpecs[_random.Next(CodecSpecs.Length)];

    private string RandomText(int maxLength)
    {
        var chars = new char[_random.Next(maxLength + 1)];
        for (int i = 0; i < chars.Length; i++)
            chars[i] = _random.Next(8) == 0 ? (char)_random.Next(0x10000) : (char)_random.Next(0x20, 0x7F);
        // Surrogates alone are not valid UTF-16 and protobuf strings must be UTF-8: a client's encoder could not send one.
        for (int i = 0; i < chars.Length; i++) if (char.IsSurrogate(chars[i])) chars[i] = '?';
        return new string(chars);
    }

    /// <summary>Valid frames of the served cut tensor in several codecs (with and without the batch dimension).</summary>
    private static List<byte[]> SplitSeeds(InferenceBackend backend)
    {
        int[] dims = backend.SampleShape.Select(d => (int)Math.Max(1, d)).ToArray();
        var shape = new TensorShape(dims);
        var values = SyntheticTensors.ReluLike(shape.ElementCount, seed: 5);
        var seeds = new List<byte[]>();
        foreach (string spec in new[] { "raw", "fp16", "quant:bits=8,entropy=rans", "rans-ifc:bits=4,ncols=4", "slicer:keep=0.25,asym=0.5,blocks=4,delta=0.01", "zstd:level=1" })
            seeds.Add(FeatureCodecs.Create(spec).Encode(values, shape));
        return seeds;
    }

    private static string Describe(object message) => message switch
    {
        WireBytes w => $"{w.Type.Name} bytes {Convert.ToHexString(w.Bytes.AsSpan(0, Math.Min(w.Bytes.Length, 64)))}{(w.Bytes.Length > 64 ? "..." : "")} ({w.Bytes.Length} B)",
        IMessage m => $"{m.GetType().Name} {Truncate(m.ToString() ?? "")}",
        _ => message.GetType().Name,
    };

    private static string Truncate(string text) => text.Length <= 240 ? text : text[..240] + "...";

    /// <summary>A message after serialization and mutation: what reaches the server's parser.</summary>
    private sealed record WireBytes(Type Type, byte[] Bytes);
}
