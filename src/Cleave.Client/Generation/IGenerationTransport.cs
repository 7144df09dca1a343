using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Generation;

/// <summary>How a <see cref="SplitGenerator"/> reaches the server: over gRPC (<see cref="GenerationClient"/>) or in-process.</summary>
public interface IGenerationTransport
{
    Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default);
    Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default);
    Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default);
}
