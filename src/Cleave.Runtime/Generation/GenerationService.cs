using Cleave.Runtime.Protocol;
using Grpc.Core;
using GenerationGrpc = Cleave.Runtime.Protocol.Generation;

namespace Cleave.Runtime.Generation;

/// <summary>The gRPC face of <see cref="GenerationEngine"/>: errors travel in-band, unexpected failures as INTERNAL_ERROR.</summary>
public sealed class GenerationService(GenerationEngine engine) : GenerationGrpc.GenerationBase
{
    public override async Task<OpenSessionResponse> Open(OpenSessionRequest request, ServerCallContext context)
    {
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

    private static GenerationError Internal(Exception e) =>
        new() { Code = GenerationErrorCode.InternalError, Message = $"{e.GetType().Name}: {e.Message}" };
}
