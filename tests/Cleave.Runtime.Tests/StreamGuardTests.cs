using Cleave.Runtime.Serving;
using Grpc.Core;

namespace Cleave.Runtime.Tests;

/// <summary>The deadlines that end a stream, on a manual clock.</summary>
public sealed class StreamGuardTests
{
    [Fact]
    public void No_Hello_within_the_deadline_ends_the_stream_with_DEADLINE_EXCEEDED()
    {
        var clock = new ManualClock();
        using var guard = new StreamGuard(clock, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(300), () => false);
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Null(guard.Status);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(guard.Token.IsCancellationRequested);
        Assert.Equal(StatusCode.DeadlineExceeded, guard.Status!.Value.StatusCode);
        Assert.Contains("no Hello within 10 s", guard.Status.Value.Detail);
    }

    [Fact]
    public void A_handshaken_stream_ends_only_after_the_idle_timeout_without_activity_or_work_in_flight()
    {
        var clock = new ManualClock();
        bool busy = false;
        using var guard = new StreamGuard(clock, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), () => busy);
        clock.Advance(TimeSpan.FromSeconds(5));
        guard.Handshaken();
        clock.Advance(TimeSpan.FromSeconds(50)); // past the Hello deadline: no longer applies
        guard.Touch();
        clock.Advance(TimeSpan.FromSeconds(50)); // 100 s in, 50 s since the last message
        Assert.Null(guard.Status);
        busy = true; // a request of its own in flight: never idle
        clock.Advance(TimeSpan.FromSeconds(600));
        Assert.Null(guard.Status);
        busy = false;
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Null(guard.Status);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Contains("idle for 60 s", guard.Status!.Value.Detail);
    }

    [Fact]
    public void The_first_reason_to_end_the_stream_wins()
    {
        var clock = new ManualClock();
        using var guard = new StreamGuard(clock, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), () => false);
        guard.End(new Status(StatusCode.ResourceExhausted, "the client does not read its replies"));
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(StatusCode.ResourceExhausted, guard.Status!.Value.StatusCode);
    }
}
