using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving.Security;
using Grpc.Core;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The gRPC face of <see cref="GenerationEngine"/>: errors travel in-band, unexpected failures as INTERNAL_ERROR.
/// Open and Step count against the caller's quota (<see cref="ClientQuotas"/>, shared with split inference on a
/// <c>serve --lm</c> host); a caller over it gets SERVER_BUSY with the limiter's retry hint, which
/// <see cref="SplitGenerator"/> already waits out. Close is never refused: it only frees memory.
/// </summary>
internal sealed class GenerationService(GenerationEngine engine, ClientQuotas quotas, ServerSecurityOptions security) : GenerationGrpc.GenerationBase
{
    public override async Task<OpenSessionResponse> Open(OpenSessionRequest request, ServerCallContext context)
    {
        using var quota = quotas.TryAcquire(CallerIdentity.Of(context, security.DefaultQuota));
        if (quota.Refusal is { } refusal) return new OpenSessionResponse { Error = Busy(refusal) };
        try
        {
            return await engine.OpenAsync(request).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new OpenSessionResponse { Error = Internal(e) };
        }
    }

    public override async Task<StepResponse> Step(StepRequest request, ServerCallContext context)
    {
        using var quota = quotas.TryAcquire(CallerIdentity.Of(context, security.DefaultQuota));
        if (quota.Refusal is { } refusal) return new StepResponse { Token = -1, Error = Busy(refusal) };
        try
        {
            return await engine.StepAsync(request).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new StepResponse { Token = -1, Error = Internal(e) };
        }
    }

    public override Task<CloseSessionResponse> Close(CloseSessionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Close(request));

    private static GenerationError Busy(SplitInferenceException refusal) =>
        new GenerationException(GenerationErrorCode.ServerBusy, refusal.Message, refusal.RetryAfterMs).ToError();

    private static GenerationError Internal(Exception e) =>
        new() { Code = GenerationErrorCode.InternalError, Message = $"{e.GetType().Name}: {e.Message}" };
}
