namespace Cleave.Cluster.Sessions;

/// <summary>
/// One language-model session, keyed by its session id. The activation owns the session's tail KV cache (in the
/// <see cref="Cleave.Runtime.Generation.GenerationEngine"/> of the silo it lives on) and runs its steps one after
/// another (grains are not reentrant). Requests and responses are the <c>cleave.v1</c> messages in their own protobuf
/// encoding, so the grain boundary needs no second schema.
/// </summary>
public interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>An <c>OpenSessionRequest</c> (a new session, or a resume with history) -> <c>OpenSessionResponse</c>.</summary>
    Task<byte[]> Open(byte[] request);

    /// <summary>A <c>StepRequest</c> -> <c>StepResponse</c>; SESSION_EVICTED when this activation does not hold the session.</summary>
    Task<byte[]> Step(byte[] request);

    /// <summary>Frees the cache and deactivates; false when nothing was open.</summary>
    Task<bool> Close();
}
