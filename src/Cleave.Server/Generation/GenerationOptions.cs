namespace Cleave.Runtime.Generation;

/// <summary>What a generation server hosts and how much it may hold.</summary>
public sealed record GenerationOptions
{
    /// <summary>An imported model folder (config.json, tail_{k}.onnx) as written by <c>cleave import --splits</c>.</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>k: the client runs the embedding and layers &lt; k, the server layers k.. and the classifier.</summary>
    public required int SplitLayer { get; init; }

    /// <summary>Sessions held at once; opening one more evicts the least recently used idle session.</summary>
    public int MaxSessions { get; init; } = 256;

    /// <summary>All sessions' KV caches together; a step that would pass it evicts least recently used idle sessions.</summary>
    public long KvCapBytes { get; init; } = 256L << 20;

    /// <summary>One session's KV cache (0: as much as the model's seq_len needs).</summary>
    public long SessionKvCapBytes { get; init; }

    /// <summary>A session not stepped for this long is expired and its cache freed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock idle expiry runs on (tests move a manual one instead of sleeping).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Steps that run at once (each one ONNX Runtime call on its own thread); 0: one per core.</summary>
    public int Workers { get; init; }

    /// <summary>ONNX Runtime intra-op threads per call; 1 leaves the parallelism to the workers.</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>
    /// True: single-token decode steps queued at the same moment run as one padded batch through tail_{k}_batch.onnx
    /// (one ONNX Runtime call for all of them; the file must exist). False: every step is its own call. Null (the
    /// default): batched when the model folder has tail_{k}_batch.onnx (folders imported before it existed run
    /// unbatched). Prefill steps (several tokens) always run alone. Measurements: docs/llm.md.
    /// </summary>
    public bool? BatchDecode { get; init; }

    /// <summary>At most this many decode steps in one batched call.</summary>
    public int MaxDecodeBatch { get; init; } = 64;

    internal int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;
}
