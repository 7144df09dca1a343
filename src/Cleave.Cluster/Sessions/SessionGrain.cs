using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Google.Protobuf;
using Orleans.Placement;

namespace Cleave.Cluster.Sessions;

/// <summary>
/// The activation of one session on one silo. State that can be rebuilt is not persisted: when the silo dies, the
/// next step activates the grain elsewhere, which holds no cache and answers SESSION_EVICTED; the client re-opens with
/// its history (the single server's resume-by-replay) and the cache is rebuilt bit for bit.
/// Placed at random among the live silos: Orleans' default, resource-optimised placement, decides from silo
/// statistics that reach it only after a while, so on a freshly started cluster it put every session on the first
/// silo (seen in a quiet test run: 8 of 8); random placement spreads sessions from the first second and needs no
/// statistics.
/// </summary>
[RandomPlacement]
internal sealed class SessionGrain(GenerationEngine engine, SessionCounters counters) : Grain, ISessionGrain
{
    private bool _open;
    // The last step that ran and its answer: a client whose front end died after the step ran re-sends it through
    // another silo, and must get the same answer rather than a position mismatch (the step must not run twice).
    private uint _lastPosition, _lastTokens;
    private byte[]? _lastResponse;

    private string Id => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        counters.CountActivation(1);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        counters.CountActivation(-1);
        Release();
        return Task.CompletedTask;
    }

    public async Task<byte[]> Open(byte[] request)
    {
        var open = OpenSessionRequest.Parser.ParseFrom(request);
        // A resume replaces whatever this activation held (the client's history is the truth), so Open is idempotent.
        Release();
        open.ResumeSessionId = Id;
        int historyTokens = 0;
        foreach (var chunk in open.History) historyTokens += (int)Math.Min(chunk.Tokens, int.MaxValue / 2);
        var response = await engine.OpenAsync(open);
        if (response.Error is null)
        {
            _open = true;
            counters.CountOpen(historyTokens);
        }
        return response.ToByteArray();
    }

    public async Task<byte[]> Step(byte[] request)
    {
        var step = StepRequest.Parser.ParseFrom(request);
        if (!_open)
        {
            counters.CountLost();
            return new StepResponse
            {
                Token = -1,
                Error = new GenerationError
                {
                    Code = GenerationErrorCode.SessionEvicted,
                    Message = $"session {Id} is not held by this silo (the silo that held it left the cluster): resume from the history",
                },
            }.ToByteArray();
        }
        if (_lastResponse is not null && step.Position == _lastPosition && step.Tokens == _lastTokens)
        {
            counters.CountRetriedStep();
            return _lastResponse;
        }
        var response = await engine.StepAsync(step);
        byte[] bytes = response.ToByteArray();
        if (response.Error is null)
        {
            (_lastPosition, _lastTokens, _lastResponse) = (step.Position, step.Tokens, bytes);
        }
        else if (response.Error.Code is GenerationErrorCode.SessionEvicted or GenerationErrorCode.SessionExpired or GenerationErrorCode.SessionNotFound)
        {
            _open = false; // the engine dropped the cache under its caps; the resume will open it again
            _lastResponse = null;
        }
        return bytes;
    }

    public Task<bool> Close()
    {
        bool closed = Release();
        DeactivateOnIdle();
        return Task.FromResult(closed);
    }

    private bool Release()
    {
        _lastResponse = null;
        if (!_open) return false;
        _open = false;
        return engine.Close(new CloseSessionRequest { SessionId = Id }).Closed;
    }
}
