using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Generation;

/// <summary>Calls a <see cref="GenerationEngine"/> in this process (local split generation, tests, eval).</summary>
public sealed class InProcessGenerationTransport(GenerationEngine engine) : IGenerationTransport
{
    public Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default) => engine.OpenAsync(request);
    public Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default) => engine.StepAsync(request);
    public Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default) => Task.FromResult(engine.Close(request));
}
