using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using Google.Protobuf;

namespace Cleave.Runtime.Tests;

public sealed class IdempotencyCacheTests
{
    private static readonly RequestFingerprint A = Fingerprint([1, 2, 3]);
    private static readonly RequestFingerprint B = Fingerprint([1, 2, 4]);

    private static RequestFingerprint Fingerprint(byte[] payload, uint topK = 5) =>
        RequestFingerprint.Of("split", new InferRequest { RequestId = "x", Payload = ByteString.CopyFrom(payload), TopK = topK });

    private static IdempotencyKey Key(string request, string client = "c", string identity = "ip:127.0.0.1") => new(identity, client, request);

    [Fact]
    public async Task A_duplicate_waits_for_the_running_original_instead_of_starting_again()
    {
        var cache = new IdempotencyCache(8);
        var gate = new TaskCompletionSource<InferResponse>();
        int starts = 0;
        var first = cache.GetOrStart(Key("1"), A, () => { starts++; return gate.Task; });
        var second = cache.GetOrStart(Key("1"), A, () => { starts++; return gate.Task; });
        gate.SetResult(new InferResponse { RequestId = "1" });
        Assert.Equal(IdempotencyOutcome.Started, first.Outcome);
        Assert.Equal(IdempotencyOutcome.Joined, second.Outcome);
        Assert.Same(await first.Task!, await second.Task!);
        Assert.Equal(1, starts);
        Assert.Equal(IdempotencyOutcome.Started, cache.GetOrStart(Key("1", client: "other"), A, () => Task.FromResult(new InferResponse())).Outcome);
        Assert.Equal(IdempotencyOutcome.Started, cache.GetOrStart(Key("1", identity: "key:other"), A, () => Task.FromResult(new InferResponse())).Outcome);
    }

    [Fact]
    public async Task The_same_id_with_another_fingerprint_is_a_mismatch_never_a_replay()
    {
        var cache = new IdempotencyCache(8);
        await cache.GetOrStart(Key("1"), A, () => Task.FromResult(new InferResponse { RequestId = "1" })).Task!;
        var other = cache.GetOrStart(Key("1"), B, () => throw new InvalidOperationException("must not run"));
        Assert.Equal(IdempotencyOutcome.Mismatch, other.Outcome);
        Assert.Null(other.Task);
        Assert.Equal(IdempotencyOutcome.Mismatch, cache.GetOrStart(Key("1"), Fingerprint([1, 2, 3], topK: 7), () => throw new InvalidOperationException()).Outcome);
        Assert.Equal(IdempotencyOutcome.Joined, cache.GetOrStart(Key("1"), A, () => throw new InvalidOperationException()).Outcome);
    }

    [Fact]
    public async Task Errors_of_any_kind_are_forgotten_so_the_retry_runs()
    {
        var cache = new IdempotencyCache(8);
        foreach (var code in new[] { ErrorCode.ResourceExhausted, ErrorCode.MalformedFrame, ErrorCode.WrongShape, ErrorCode.Internal })
        {
            string id = code.ToString();
            await cache.GetOrStart(Key(id), A, () => Task.FromResult(new InferResponse { Error = new Error { Code = code } })).Task!;
            Assert.Equal(IdempotencyOutcome.Started, cache.GetOrStart(Key(id), B, () => Task.FromResult(new InferResponse())).Outcome);
        }
        var faulted = cache.GetOrStart(Key("f"), A, () => Task.FromException<InferResponse>(new InvalidOperationException()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => faulted.Task!);
        Assert.Equal(IdempotencyOutcome.Started, cache.GetOrStart(Key("f"), A, () => Task.FromResult(new InferResponse())).Outcome);
    }

    [Fact]
    public async Task The_cache_is_bounded_by_entries_bytes_and_age()
    {
        var cache = new IdempotencyCache(2);
        await cache.GetOrStart(Key("a"), A, () => Task.FromResult(new InferResponse())).Task!;
        await cache.GetOrStart(Key("b"), A, () => Task.FromResult(new InferResponse())).Task!;
        await cache.GetOrStart(Key("c"), A, () => Task.FromResult(new InferResponse())).Task!;
        Assert.Equal(2, cache.Count);
        Assert.Equal(IdempotencyOutcome.Started, cache.GetOrStart(Key("a"), A, () => Task.FromResult(new InferResponse())).Outcome); // "a" was oldest: forgotten

        var big = new InferResponse { OutputFrame = ByteString.CopyFrom(new byte[10_000]) };
        var bytesBound = new IdempotencyCache(1000, maxBytes: 25_000);
        for (int i = 0; i < 10; i++) await bytesBound.GetOrStart(Key($"{i}"), A, () => Task.FromResult(big)).Task!;
        Assert.InRange(bytesBound.Bytes, 1, 25_000);
        Assert.Equal(2, bytesBound.Count);

        var time = new ManualClock();
        var aged = new IdempotencyCache(1000, maxAge: TimeSpan.FromMinutes(1), time: time);
        await aged.GetOrStart(Key("old"), A, () => Task.FromResult(new InferResponse())).Task!;
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(IdempotencyOutcome.Joined, aged.GetOrStart(Key("old"), A, () => Task.FromResult(new InferResponse())).Outcome);
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(IdempotencyOutcome.Started, aged.GetOrStart(Key("old"), A, () => Task.FromResult(new InferResponse())).Outcome);
        Assert.Equal(1, aged.Count);
    }
}
