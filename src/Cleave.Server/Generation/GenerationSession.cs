using Cleave.Codecs;
using Cleave.Models.Text;

namespace Cleave.Runtime.Generation;

/// <summary>One client's state on the server: the tail's KV cache, the codec that decodes its steps, its sampling.</summary>
internal sealed class GenerationSession(string id, KvCacheSession cache, TokenStreamCodec codec, SamplingSettings sampling,
    bool clientSamples, int returnTopLogits, int maxPositions) : IDisposable
{
    public string Id { get; } = id;
    public KvCacheSession Cache { get; } = cache;
    public TokenStreamCodec Codec { get; } = codec;
    public SamplingSettings Sampling { get; } = sampling;
    public bool ClientSamples { get; } = clientSamples;
    public int ReturnTopLogits { get; } = returnTopLogits;
    public int MaxPositions { get; } = maxPositions;

    /// <summary>
    /// The last token this server sampled for the session and the position it is fed at (-1: none). Steps of one session
    /// run one at a time, so the step that reads them follows the one that wrote them.
    /// </summary>
    public int SampledToken { get; set; } = -1;
    public int SampledAt { get; set; } = -1;

    /// <summary>The handle of compact steps (0: none granted). Set once by the store when the session is added.</summary>
    public uint StepHandle { get; set; }

    // Guarded by the store's lock.
    public long LastUsed { get; set; }
    public bool Busy { get; set; }
    public int ReservedTokens { get; set; }
    public bool Disposed { get; private set; }

    public void Dispose()
    {
        Disposed = true;
        Cache.Dispose();
    }
}
