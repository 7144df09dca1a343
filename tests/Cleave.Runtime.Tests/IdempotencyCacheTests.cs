using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

public sealed class IdempotencyCacheTests
{
    [Fact]
    public async Task A_duplicate_waits_for_the_running_original_instead_of_starting_again()
    {
        var cache = new IdempotencyCache(8);
        var gate = new TaskCompletionSource<InferResponse>();
        int starts = 0;
        var first = cache.GetOrStart("c", "1", () => { starts++; return gate.Task; }, out bool created1);
        var second = cache.GetOrStart("c", "1", () => { starts++; return gate.Task; }, out bool created2);
        gate.SetResult(new InferResponse { RequestId = "1" });
        Assert.True(created1);
        Assert.False(created2);
        Assert.Same(await first, await second);
        Assert.Equal(1, starts);
        _ = cache.GetOrStart("other-client", "1", () => Task.FromResult(new InferResponse()), out bool createdOther);
        Assert.True(createdOther); // ids are scoped per client
    }

    [Fact]
    public async Task Refusals_are_forgotten_so_their_retry_runs_and_the_oldest_entries_go_first()
    {
        var cache = new IdempotencyCache(2);
        var refused = new InferResponse { RequestId = "r", Error = new Error { Code = ErrorCode.ResourceExhausted } };
        await cache.GetOrStart("c", "r", () => Task.FromResult(refused), out _);
        _ = cache.GetOrStart("c", "r", () => Task.FromResult(new InferResponse()), out bool retried);
        Assert.True(retried);

        await cache.GetOrStart("c", "a", () => Task.FromResult(new InferResponse()), out _);
        await cache.GetOrStart("c", "b", () => Task.FromResult(new InferResponse()), out _);
        Assert.Equal(2, cache.Count);
        _ = cache.GetOrStart("c", "r", () => Task.FromResult(new InferResponse()), out bool evicted);
        Assert.True(evicted); // "r" was the oldest and has been forgotten
    }
}
