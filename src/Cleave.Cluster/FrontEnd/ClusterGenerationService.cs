using Cleave.Cluster.Sessions;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Google.Protobuf;
using Grpc.Core;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Cluster.FrontEnd;

/// <summary>
/// The <c>cleave.v1.Generation</c> service as a silo serves it: the same messages as the single server, each call
/// forwarded to the session's grain, wherever in the cluster it lives. Failures of the cluster itself stay in-band:
/// a step whose grain cannot be reached is SESSION_EVICTED (the client resumes from its history, which is always
/// correct); an open, which is idempotent, is retried until <see cref="FrontEndOptions.OpenDeadline"/>, then
/// answered SERVER_BUSY with a retry hint.
/// </summary>
internal sealed class ClusterGenerationService(IGrainFactory grains, FrontEndOptions options) : GenerationGrpc.GenerationBase
{
    /// <summary>Session ids are the engine's 12 characters; anything much longer is refused before a grain exists.</summary>
    public const int MaxSessionIdLength = 64;

    public override async Task<OpenSessionResponse> Open(OpenSessionRequest request, ServerCallContext context)
    {
        string id = request.ResumeSessionId.Length > 0 ? request.ResumeSessionId : GenerationEngine.NewSessionId();
        if (id.Length > MaxSessionIdLength) return new OpenSessionResponse { Error = BadId() };
        var grain = grains.GetGrain<ISessionGrain>(id);
        // A step handle is one silo's: a step sent with it could reach another. Cluster clients keep full steps.
        request.CompactSteps = false;
        byte[] bytes = request.ToByteArray();
        long started = options.Time.GetTimestamp();
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return OpenSessionResponse.Parser.ParseFrom(await grain.Open(bytes).ConfigureAwait(false));
            }
            catch (Exception e) when (IsClusterFailure(e))
            {
                // Until membership declares a dead silo dead, the directory may still send the call there.
                var backoff = TimeSpan.FromMilliseconds(Math.Min(2000, 100 << Math.Min(attempt, 5)));
                if (options.Time.GetElapsedTime(started) + backoff > options.OpenDeadline)
                    return new OpenSessionResponse { Error = Busy(e) };
                await Task.Delay(backoff, options.Time, context.CancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override async Task<StepResponse> Step(StepRequest request, ServerCallContext context)
    {
        if (request.SessionId.Length is 0 or > MaxSessionIdLength) return new StepResponse { Token = -1, Error = BadId() };
        try
        {
            return StepResponse.Parser.ParseFrom(await grains.GetGrain<ISessionGrain>(request.SessionId).Step(request.ToByteArray()).ConfigureAwait(false));
        }
        catch (Exception e) when (IsClusterFailure(e))
        {
            return new StepResponse
            {
                Token = -1,
                Error = new GenerationError { Code = GenerationErrorCode.SessionEvicted, Message = $"the silo holding session {request.SessionId} is unreachable ({e.GetType().Name}): resume from the history" },
            };
        }
    }

    public override async Task<CloseSessionResponse> Close(CloseSessionRequest request, ServerCallContext context)
    {
        if (request.SessionId.Length is 0 or > MaxSessionIdLength) return new CloseSessionResponse();
        try
        {
            return new CloseSessionResponse { Closed = await grains.GetGrain<ISessionGrain>(request.SessionId).Close().ConfigureAwait(false) };
        }
        catch (Exception e) when (IsClusterFailure(e))
        {
            return new CloseSessionResponse(); // the silo went away and the cache with it
        }
    }

    /// <summary>The cluster, not the request, failed: a silo died or a call timed out.</summary>
    internal static bool IsClusterFailure(Exception e) => e is OrleansException or TimeoutException;

    private static GenerationError BadId() =>
        new() { Code = GenerationErrorCode.BadRequest, Message = $"a session id holds 1 to {MaxSessionIdLength} characters" };

    private GenerationError Busy(Exception e) => new()
    {
        Code = GenerationErrorCode.ServerBusy,
        Message = $"the cluster could not place the session within {options.OpenDeadline.TotalSeconds:0} s ({e.GetType().Name}: {e.Message})",
        RetryAfterMs = 1000,
    };
}
