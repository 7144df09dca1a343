using System.Buffers.Binary;
using System.Security.Cryptography;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The server's sessions with their KV-cache budget: at most <c>maxSessions</c>, all caches together at most
/// <c>capBytes</c> (a step reserves its growth before it runs). When a new session or a step does not fit, the least
/// recently used idle session is evicted (busy sessions never are); sessions idle longer than the timeout expire.
/// The ids of evicted and expired sessions are remembered (a bounded list), so a returning client gets a typed
/// error it can resume from instead of "not found". Sessions opened for compact steps get a random 4-byte step handle;
/// a handle lives exactly as long as its id is known here (open or remembered as ended), so a compact step of an
/// evicted session gets the same typed error as a full one.
/// </summary>
internal sealed class SessionStore(int maxSessions, long capBytes, long bytesPerToken, TimeSpan idleTimeout, TimeProvider time) : IDisposable
{
    private const int RememberedEndings = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, GenerationSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GenerationErrorCode> _ended = new(StringComparer.Ordinal);
    private readonly Queue<string> _endedOrder = new();
    private readonly Dictionary<uint, string> _idByHandle = [];
    private readonly Dictionary<string, uint> _handleById = new(StringComparer.Ordinal);
    private long _reservedBytes;

    public long Evictions { get; private set; }
    public long Expirations { get; private set; }

    public int Count { get { lock (_lock) return _sessions.Count; } }
    public long ReservedBytes { get { lock (_lock) return _reservedBytes; } }

    /// <summary>
    /// Adds a new session holding <paramref name="tokens"/> cache tokens (a resume's history), busy until released;
    /// with <paramref name="stepHandle"/> it gets a fresh step handle (<see cref="GenerationSession.StepHandle"/>).
    /// </summary>
    public void Add(GenerationSession session, int tokens, bool stepHandle = false)
    {
        lock (_lock)
        {
            ExpireIdleLocked();
            if (_sessions.ContainsKey(session.Id)) throw new GenerationException(GenerationErrorCode.BadRequest, $"session {session.Id} is open: resume only an evicted or expired session");
            while (_sessions.Count >= maxSessions)
                if (!EvictOneLocked(except: null))
                    throw new GenerationException(GenerationErrorCode.ServerBusy, $"all {maxSessions} sessions are busy", 100);
            MakeRoomLocked(tokens * bytesPerToken, except: null);
            _ended.Remove(session.Id);
            session.Busy = true;
            session.ReservedTokens = tokens;
            session.LastUsed = time.GetTimestamp();
            _reservedBytes += tokens * bytesPerToken;
            _sessions.Add(session.Id, session);
            ForgetHandleLocked(session.Id);
            if (stepHandle) session.StepHandle = NewHandleLocked(session.Id);
        }
    }

    /// <summary>The id of the session (open or remembered as ended) that holds <paramref name="handle"/>, or null.</summary>
    public string? IdOfHandle(uint handle)
    {
        lock (_lock) return _idByHandle.GetValueOrDefault(handle);
    }

    private uint NewHandleLocked(string id)
    {
        Span<byte> random = stackalloc byte[4];
        uint handle;
        do
        {
            RandomNumberGenerator.Fill(random);
            handle = BinaryPrimitives.ReadUInt32LittleEndian(random);
        }
        while (handle == 0 || _idByHandle.ContainsKey(handle));
        _idByHandle.Add(handle, id);
        _handleById.Add(id, handle);
        return handle;
    }

    private void ForgetHandleLocked(string id)
    {
        if (_handleById.Remove(id, out uint handle)) _idByHandle.Remove(handle);
    }

    /// <summary>Takes a session for a step that adds <paramref name="tokens"/> to its cache: reserves them, marks it busy.</summary>
    public GenerationSession Acquire(string id, int tokens)
    {
        lock (_lock)
        {
            if (!_sessions.TryGetValue(id, out var session))
                throw _ended.TryGetValue(id, out var why)
                    ? new GenerationException(why, why == GenerationErrorCode.SessionEvicted
                        ? $"session {id} was evicted to make room for others: re-open it with its history to resume"
                        : $"session {id} expired after {idleTimeout.TotalSeconds:0.#} s idle: re-open it with its history to resume")
                    : new GenerationException(GenerationErrorCode.SessionNotFound, $"no session {id} (never opened, or closed)");
            if (IsIdleTooLong(session))
            {
                EndLocked(session, GenerationErrorCode.SessionExpired);
                Expirations++;
                return Acquire(id, tokens);
            }
            if (session.Busy) throw new GenerationException(GenerationErrorCode.BadRequest, $"session {id} already has a step running: steps of one session are sequential");
            int total = session.Cache.PastLength + tokens;
            if (total > session.MaxPositions)
                throw new GenerationException(GenerationErrorCode.SessionLimit,
                    $"session {id}: {session.Cache.PastLength} cached + {tokens} new tokens exceed its {session.MaxPositions} positions (model seq_len or per-session cache cap)");
            long growth = (total - session.ReservedTokens) * bytesPerToken;
            MakeRoomLocked(growth, except: session);
            _reservedBytes += growth;
            session.ReservedTokens = total;
            session.Busy = true;
            return session;
        }
    }

    /// <summary>Ends a step: the reservation shrinks to what the cache really holds, and the session is idle again.</summary>
    public void Release(GenerationSession session)
    {
        lock (_lock)
        {
            session.Busy = false;
            session.LastUsed = time.GetTimestamp();
            if (!_sessions.TryGetValue(session.Id, out var current) || current != session)
            {
                session.Dispose(); // closed while its step ran: its reservation is already gone
                return;
            }
            int held = session.Cache.PastLength;
            _reservedBytes -= (session.ReservedTokens - held) * bytesPerToken;
            session.ReservedTokens = held;
        }
    }

    /// <summary>Removes a session for good (closed by its client). False when it was not open.</summary>
    public bool Remove(string id)
    {
        lock (_lock)
        {
            if (!_sessions.Remove(id, out var session)) return false;
            ForgetHandleLocked(id);
            _reservedBytes -= session.ReservedTokens * bytesPerToken;
            session.ReservedTokens = 0;
            if (!session.Busy) session.Dispose();
            return true;
        }
    }

    /// <summary>Expires sessions idle longer than the timeout; returns how many.</summary>
    public int ExpireIdle()
    {
        lock (_lock) return ExpireIdleLocked();
    }

    private int ExpireIdleLocked()
    {
        List<GenerationSession>? stale = null;
        foreach (var session in _sessions.Values)
            if (IsIdleTooLong(session)) (stale ??= []).Add(session);
        if (stale is null) return 0;
        foreach (var session in stale) EndLocked(session, GenerationErrorCode.SessionExpired);
        Expirations += stale.Count;
        return stale.Count;
    }

    private bool IsIdleTooLong(GenerationSession session) => !session.Busy && time.GetElapsedTime(session.LastUsed) > idleTimeout;

    private void MakeRoomLocked(long bytes, GenerationSession? except)
    {
        while (_reservedBytes + bytes > capBytes)
            if (!EvictOneLocked(except))
                throw new GenerationException(GenerationErrorCode.ServerBusy,
                    $"the KV caches would need {(_reservedBytes + bytes) / 1024} KiB of the {capBytes / 1024} KiB cap and no idle session is left to evict", 100);
    }

    private bool EvictOneLocked(GenerationSession? except)
    {
        GenerationSession? victim = null;
        foreach (var session in _sessions.Values)
            if (!session.Busy && session != except && (victim is null || session.LastUsed < victim.LastUsed)) victim = session;
        if (victim is null) return false;
        EndLocked(victim, GenerationErrorCode.SessionEvicted);
        Evictions++;
        return true;
    }

    private void EndLocked(GenerationSession session, GenerationErrorCode why)
    {
        _sessions.Remove(session.Id);
        _reservedBytes -= session.ReservedTokens * bytesPerToken;
        session.ReservedTokens = 0;
        session.Dispose();
        _ended[session.Id] = why;
        _endedOrder.Enqueue(session.Id);
        while (_endedOrder.Count > RememberedEndings)
        {
            string forgotten = _endedOrder.Dequeue();
            // A resumed id may still be queued from its earlier ending: only forget what is not open again.
            if (_sessions.ContainsKey(forgotten)) continue;
            _ended.Remove(forgotten);
            ForgetHandleLocked(forgotten);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var session in _sessions.Values) if (!session.Busy) session.Dispose();
            _sessions.Clear();
        }
    }
}
