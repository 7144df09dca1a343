using Cleave.Codecs;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Google.Protobuf;

namespace Cleave.Runtime.Tests.Generation;

/// <summary>Eviction, resume, expiry, caps and typed errors against a real server on 127.0.0.1 (port chosen by the OS).</summary>
public sealed class SessionLifecycleTests
{
    private const int K = 2;

    private static int[] Tokens(string text) => StoriesModel.Model.Tokenizer.Encode(text, bos: true);

    private static TokenStreamCodec Raw => TokenStreamCodec.ForSender("raw", StoriesModel.Model.Config.Dim, () => []);

    [StoriesFact]
    public async Task An_evicted_session_gets_a_typed_error_and_resumes_from_its_history()
    {
        await using var probe = await GenerationServer.StartAsync(StoriesModel.Options(K));
        long perToken = probe.Engine.CacheBytesPerToken;
        // Room for 32 cached tokens in all: the second session's 20-token prompt cannot join the first's 20.
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K) with { KvCapBytes = 32 * perToken });
        using var client = new GenerationClient(server.Address);
        using var headModel = StoriesModel.Head(K);
        using var headA = new KvCacheSession(headModel);
        using var headB = new KvCacheSession(headModel);
        int[] prompt = Tokens("Once upon a time there was a little girl who liked to play");
        Assert.InRange(prompt.Length, 17, 31);

        var a = await client.OpenAsync(StoriesModel.Open(K));
        var chunkA = StoriesModel.RawChunk(headA, prompt);
        var first = await client.StepAsync(StoriesModel.Step(a.SessionId, 0, chunkA));
        Assert.Null(first.Error);

        var b = await client.OpenAsync(StoriesModel.Open(K));
        var stepB = await client.StepAsync(StoriesModel.Step(b.SessionId, 0, StoriesModel.RawChunk(headB, prompt)));
        Assert.Null(stepB.Error); // room was made by evicting the idle session a
        Assert.Equal(1, server.Engine.Evictions);

        var next = StoriesModel.RawChunk(headA, [first.Token]);
        var evicted = await client.StepAsync(StoriesModel.Step(a.SessionId, (uint)prompt.Length, next));
        Assert.Equal(GenerationErrorCode.SessionEvicted, evicted.Error?.Code);

        Assert.True((await client.CloseAsync(new CloseSessionRequest { SessionId = b.SessionId })).Closed);
        var resume = StoriesModel.Open(K);
        resume.ResumeSessionId = a.SessionId;
        resume.History.Add(chunkA);
        var resumed = await client.OpenAsync(resume);
        Assert.Null(resumed.Error);
        Assert.Equal(a.SessionId, resumed.SessionId);
        Assert.Equal((uint)prompt.Length, resumed.Position);
        var after = await client.StepAsync(StoriesModel.Step(a.SessionId, (uint)prompt.Length, next));
        Assert.Null(after.Error);
        Assert.Equal(StoriesModel.LocalGreedy(prompt, 2), new[] { first.Token, after.Token });
    }

    [StoriesFact]
    public async Task A_generator_resumes_transparently_when_another_session_evicts_it()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K) with { KvCapBytes = 48 * 768 });
        Assert.Equal(768, server.Engine.CacheBytesPerToken); // 3 layers x (K and V) x 4 heads x 8 x 4 bytes
        using var client = new GenerationClient(server.Address);
        using var head = StoriesModel.Head(K);
        int[] prompt = Tokens("Tim and his dog");
        var intruder = new SplitGenerator(head, StoriesModel.Model.Config, K, Raw, client);
        bool interfered = false;
        var victim = new SplitGenerator(head, StoriesModel.Model.Config, K, Raw, client)
        {
            OnToken = _ =>
            {
                if (interfered) return;
                interfered = true;
                intruder.GenerateAsync(Tokens("The sun was hot"), 40).GetAwaiter().GetResult(); // needs 44 of the 48 tokens
            },
        };

        var result = await victim.GenerateAsync(prompt, 30);

        Assert.Equal(StoriesModel.LocalGreedy(prompt, 30), result.GeneratedTokens);
        Assert.Equal(1, result.Resumes);
        Assert.True(result.ResendBytes > 0);
        Assert.True(server.Engine.Evictions >= 1);
    }

    [StoriesFact]
    public async Task Sessions_opened_and_never_stepped_expire_without_any_further_request()
    {
        // The cheapest way to hold server memory: open sessions (no history, no step) and walk away.
        var clock = new ManualClock();
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K) with { IdleTimeout = TimeSpan.FromMilliseconds(300), Time = clock });
        using var client = new GenerationClient(server.Address);
        for (int i = 0; i < 5; i++) Assert.Null((await client.OpenAsync(StoriesModel.Open(K))).Error);
        Assert.Equal(5, server.Engine.OpenSessions);
        clock.Advance(TimeSpan.FromMilliseconds(900)); // the sweep timer fires on the way
        Assert.Equal(0, server.Engine.OpenSessions);
        Assert.Equal(5, server.Engine.Expirations);
    }

    [StoriesFact]
    public async Task Idle_sessions_expire_and_resume()
    {
        // A manual clock: the session is idle exactly as long as the test says, however loaded the machine is.
        var clock = new ManualClock();
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K) with { IdleTimeout = TimeSpan.FromMilliseconds(300), Time = clock });
        using var client = new GenerationClient(server.Address);
        using var headModel = StoriesModel.Head(K);
        using var head = new KvCacheSession(headModel);
        int[] prompt = Tokens("Lily had a red ball");

        var open = await client.OpenAsync(StoriesModel.Open(K));
        var chunk = StoriesModel.RawChunk(head, prompt);
        var first = await client.StepAsync(StoriesModel.Step(open.SessionId, 0, chunk));
        Assert.Null(first.Error);
        clock.Advance(TimeSpan.FromMilliseconds(900)); // the sweep timer fires on the way
        Assert.Equal(0, server.Engine.OpenSessions); // the sweep freed it without any request
        var next = StoriesModel.RawChunk(head, [first.Token]);
        var expired = await client.StepAsync(StoriesModel.Step(open.SessionId, (uint)prompt.Length, next));
        Assert.Equal(GenerationErrorCode.SessionExpired, expired.Error?.Code);
        Assert.True(server.Engine.Expirations >= 1);

        // The generator resumes on its own when its session expires between two tokens.
        var generator = new SplitGenerator(headModel, StoriesModel.Model.Config, K, Raw, client) { OnToken = t => { if (t == first.Token) clock.Advance(TimeSpan.FromMilliseconds(900)); } };
        var result = await generator.GenerateAsync(prompt, 12);
        Assert.Equal(StoriesModel.LocalGreedy(prompt, 12), result.GeneratedTokens);
        Assert.True(result.Resumes >= 1);
    }

    [StoriesFact]
    public async Task Bad_requests_get_typed_errors()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K) with { SessionKvCapBytes = 8 * 768, MaxSessions = 2 });
        using var client = new GenerationClient(server.Address);
        using var headModel = StoriesModel.Head(K);
        using var head = new KvCacheSession(headModel);

        var wrongModel = StoriesModel.Open(K);
        wrongModel.ModelSha256 = "00";
        Assert.Equal(GenerationErrorCode.ModelMismatch, (await client.OpenAsync(wrongModel)).Error?.Code);
        Assert.Equal(GenerationErrorCode.ModelMismatch, (await client.OpenAsync(StoriesModel.Open(K + 1))).Error?.Code);
        Assert.Equal(GenerationErrorCode.BadRequest, (await client.OpenAsync(StoriesModel.Open(K, "nonsense:x=1"))).Error?.Code);
        var badState = StoriesModel.Open(K, "tq:levels=16,clip=4");
        badState.CodecState = ByteString.CopyFrom(1, 64, 0);
        Assert.Equal(GenerationErrorCode.BadPayload, (await client.OpenAsync(badState)).Error?.Code);

        var open = await client.OpenAsync(StoriesModel.Open(K));
        Assert.Equal(8u, open.MaxPositions);
        var chunk = StoriesModel.RawChunk(head, Tokens("Tim"));
        Assert.Equal(GenerationErrorCode.BadRequest, (await client.StepAsync(StoriesModel.Step(open.SessionId, 5, chunk))).Error?.Code);
        var garbage = new StepRequest { SessionId = open.SessionId, Tokens = chunk.Tokens, Payload = ByteString.CopyFrom(1, 2, 3) };
        Assert.Equal(GenerationErrorCode.BadPayload, (await client.StepAsync(garbage)).Error?.Code);
        using var other = new KvCacheSession(headModel);
        var tooLong = StoriesModel.RawChunk(other, Tokens("Once upon a time there was a big dog"));
        Assert.Equal(GenerationErrorCode.SessionLimit, (await client.StepAsync(StoriesModel.Step(open.SessionId, 0, tooLong))).Error?.Code);
        Assert.Null((await client.StepAsync(StoriesModel.Step(open.SessionId, 0, chunk))).Error); // the session survived its bad steps

        Assert.True((await client.CloseAsync(new CloseSessionRequest { SessionId = open.SessionId })).Closed);
        Assert.Equal(GenerationErrorCode.SessionNotFound, (await client.StepAsync(StoriesModel.Step(open.SessionId, 2, chunk))).Error?.Code);
        Assert.False((await client.CloseAsync(new CloseSessionRequest { SessionId = open.SessionId })).Closed);
        Assert.Equal(0, server.Engine.ReservedCacheBytes);
    }

    [StoriesFact]
    public async Task Opening_past_the_session_limit_evicts_the_least_recently_used_idle_session()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K) with { MaxSessions = 2 });
        using var client = new GenerationClient(server.Address);
        using var headModel = StoriesModel.Head(K);
        using var headA = new KvCacheSession(headModel);
        var chunk = StoriesModel.RawChunk(headA, Tokens("Tim"));
        var a = await client.OpenAsync(StoriesModel.Open(K));
        var b = await client.OpenAsync(StoriesModel.Open(K));
        Assert.Null((await client.StepAsync(StoriesModel.Step(a.SessionId, 0, chunk))).Error); // b is now the least recently used

        var c = await client.OpenAsync(StoriesModel.Open(K));

        Assert.Null(c.Error);
        Assert.Equal(2, server.Engine.OpenSessions);
        Assert.Equal(GenerationErrorCode.SessionEvicted, (await client.StepAsync(StoriesModel.Step(b.SessionId, 0, chunk))).Error?.Code);
        var next = StoriesModel.RawChunk(headA, [Llama2cTokenizer.Eos]);
        Assert.Null((await client.StepAsync(StoriesModel.Step(a.SessionId, chunk.Tokens, next))).Error);
    }
}
