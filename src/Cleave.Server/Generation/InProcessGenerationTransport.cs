using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Generation;

/// <summary>Calls a <see cref="GenerationEngine"/> in this process (local split generation, tests, eval).</summary>
public sealed class InProcessGenerationTransport(GenerationEngine engine) : IGenerationTransport
{
    internal Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default) => engine.OpenAsync(request);
    internal Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default) => engine.StepAsync(request);
    internal Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default) => Task.FromResult(engine.Close(request));

    // The transport's calls are internal (they speak the wire messages); these bind them to the interface.
    Task<OpenSessionResponse> IGenerationTransport.OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken) => OpenAsync(request, cancellationToken);
    Task<StepResponse> IGenerationTransport.StepAsync(StepRequest request, CancellationToken cancellationToken) => StepAsync(request, cancellationToken);
    Task<CloseSessionResponse> IGenerationTransport.CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken) => CloseAsync(request, cancellationToken);
}
