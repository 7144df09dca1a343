using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Generation;

/// <summary>
/// How a <see cref="SplitGenerator"/> reaches the server: over gRPC (<see cref="GenerationClient"/>) or in-process
/// (<c>InProcessGenerationTransport</c> in Cleave.Server). Its calls speak the internal wire messages, so only Cleave's
/// own assemblies implement it (docs/packaging.md).
/// </summary>
public interface IGenerationTransport
{
    internal Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellationToken = default);
    internal Task<StepResponse> StepAsync(StepRequest request, CancellationToken cancellationToken = default);
    internal Task<CloseSessionResponse> CloseAsync(CloseSessionRequest request, CancellationToken cancellationToken = default);
}
