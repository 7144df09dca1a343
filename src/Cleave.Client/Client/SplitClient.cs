using System.Collections.Concurrent;
using System.Diagnostics;
using Cleave.Runtime.Links;
using Cleave.Runtime.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cleave.Runtime.Client;

/// <summary>
/// A client of <c>cleave.v1.SplitInference</c>: one bidirectional stream (reopened, with a new handshake, when it
/// breaks), many requests in flight on it, answers matched by request id. Each request is retried on transient
/// failures with the same idempotency id, goes through the link emulator both ways, and times out per try. Given
/// several servers (a cluster's silos), a stream that cannot be opened to one, or whose server refuses a request as
/// overloaded, is opened to the next, and the unanswered or refused requests are re-sent there under the same ids;
/// the client returns to the first server once a background probe finds it answering again.
/// Thread-safe: call <see cref="InferAsync"/> from as many tasks as requests should be in flight.
/// </summary>
public sealed class SplitClient : IAsyncDisposable
{
    private readonly ServerAddressList _servers;
    private readonly GrpcChannel[] _channels;
    private readonly SplitInference.SplitInferenceClient[] _stubs;
    private volatile LinkShaper _shaper;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly Random _jitter = new();
    private readonly Lock _jitterLock = new();
    private readonly CancellationTokenSource _disposed = new();
    private Connection? _connection;
    private long _requestCounter;
    private long _pingCounter;
    private long _linkChanges;
    private long _duplicates;
    private long _reconnects;
    private long _failovers;
    private long _failBacks;
    private long _nextFailBackProbeAt;
    private int _probing;
    private long _retries;
    private int _connectFailures;
    private long _nextConnectAt;

    private SplitClient(SplitClientOptions options)
    {
        Options = options;
        _servers = new ServerAddressList(options.Servers);
        _channels = new GrpcChannel[_servers.Count];
        _stubs = new SplitInference.SplitInferenceClient[_servers.Count];
        for (int i = 0; i < _servers.Count; i++)
        {
            var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
            if (options.AcceptAnyServerCertificate)
                handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            options.Credentials.ApplyTo(handler);
            _channels[i] = GrpcChannel.ForAddress(_servers[i], new GrpcChannelOptions
            {
                HttpHandler = handler,
                MaxReceiveMessageSize = null,
                MaxSendMessageSize = null,
                // The channel has its own reconnect backoff (1 s growing to 120 s by default): after an outage of some
                // seconds it would keep failing calls for seconds more after the server is back. Ours paces retries.
                InitialReconnectBackoff = options.Retry.BaseDelay,
                MaxReconnectBackoff = options.Retry.MaxDelay,
            });
            _stubs[i] = new SplitInference.SplitInferenceClient(_channels[i]);
        }
        _shaper = new LinkShaper(options.Link, options.LinkSeed);
        if (!options.BitErrors.IsNone) _bitErrors = new BitErrorChannel(options.BitErrors, options.LinkSeed ?? Random.Shared.Next());
    }

    private readonly BitErrorChannel? _bitErrors;

    public SplitClientOptions Options { get; }

    /// <summary>
    /// The emulated link; setting it changes the link mid-run (a device moving from Wi-Fi to LTE), from the next
    /// message on. Setting the link it already has changes nothing: a fresh shaper would restart the loss draws from
    /// the seed (every message would see the same first draws) and forget the bucket's queue.
    /// </summary>
    public LinkProfile Link
    {
        get => _shaper.Profile;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value == _shaper.Profile) return;
            _shaper = new LinkShaper(value, Options.LinkSeed is int seed ? seed + (int)Interlocked.Increment(ref _linkChanges) : null);
        }
    }

    /// <summary>The server's answer to the latest handshake.</summary>
    public ServerWelcome Welcome => _connection?.Welcome?.ToCleave() ?? throw new InvalidOperationException("not connected");

    /// <summary>Answers that arrived for a request already answered (a retried try's second answer): ignored, counted.</summary>
    public long DuplicateAnswers => Interlocked.Read(ref _duplicates);

    /// <summary>The server the client uses now (of <see cref="SplitClientOptions.Servers"/>).</summary>
    public Uri CurrentServer => _connection?.Server ?? _servers.Current;

    /// <summary>Times a connect failed on one address and the client moved to the next (with several servers).</summary>
    public long Failovers => Interlocked.Read(ref _failovers);

    /// <summary>Times the client returned to its preferred (first) server after a failover.</summary>
    public long FailBacks => Interlocked.Read(ref _failBacks);

    /// <summary>Times the stream was reopened (handshaken again) after it broke.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Tries sent again after a transient failure (all requests together).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>
    /// Connects and handshakes. A server not reachable yet (refused or broken connection, no handshake answer) is tried
    /// again with the reconnect backoff within <see cref="SplitClientOptions.Retry"/> (deadline, attempts), so a client
    /// started while its server (re)starts waits for it; then throws <see cref="SplitInferenceException"/> UNAVAILABLE
    /// marked <see cref="SplitInferenceException.ServerUnreachable"/>. A refused Hello throws at once.
    /// </summary>
    public static async Task<SplitClient> ConnectAsync(SplitClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        // A cluster's silo that lacks the cut names one that has it (CUT_ELSEWHERE): follow that once, no further,
        // so two silos with stale views cannot bounce a client between them.
        for (int redirects = 0; ; redirects++)
        {
            var client = new SplitClient(options);
            try
            {
                await client.FirstConnectAsync(cancellationToken).ConfigureAwait(false);
                return client;
            }
            catch (SplitInferenceException e) when (e.Code == SplitErrorCode.CutElsewhere && e.Redirect is { } elsewhere && redirects == 0)
            {
                await client.DisposeAsync().ConfigureAwait(false);
                // The named silo first; the others stay behind it for failover.
                options = options with { Servers = [elsewhere, .. options.Servers.Where(s => s != elsewhere)] };
            }
            catch
            {
                await client.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>The first connect: a server not reachable yet is tried again (the backoff is EnsureConnectedAsync's) until the retry policy runs out.</summary>
    private async Task FirstConnectAsync(CancellationToken cancellationToken)
    {
        long start = Options.Time.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (IsUnreachable(e))
            {
                var elapsed = Options.Time.GetElapsedTime(start);
                // Nothing listening (or no such host) and never connected: most likely no server at all, so the
                // short grace decides, not the retry deadline meant for a server that went away.
                bool nothingThere = NothingListening(e) && elapsed >= Options.FirstConnectGrace;
                if (attempt >= Options.Retry.MaxAttempts || elapsed >= Options.Retry.Deadline || nothingThere)
                    throw new SplitInferenceException(ErrorCode.Unavailable, $"cannot reach {_servers}: {UnreachableReason(e)}", 0, e)
                    { ServerUnreachable = true, DeadlineExceeded = attempt < Options.Retry.MaxAttempts };
            }
        }
    }

    /// <summary>A fresh idempotency id, unique within this client.</summary>
    public string NextRequestId() => $"{Options.ClientId}-{Interlocked.Increment(ref _requestCounter)}";

    /// <summary>
    /// Sends one payload (a frame in split mode, an image file in full mode) and waits for its answer, retrying
    /// transient failures (refusals with a retry hint, broken or refused connections, a try's timeout) per
    /// <see cref="SplitClientOptions.Retry"/> under the same idempotency id, reconnecting with backoff. Throws
    /// <see cref="SplitInferenceException"/> with the server's error, or Unavailable with
    /// <see cref="SplitInferenceException.DeadlineExceeded"/> when the retry deadline passed (or the tries ran out).
    /// </summary>
    public async Task<SplitResult> InferAsync(ReadOnlyMemory<byte> payload, string? requestId = null, CancellationToken cancellationToken = default)
    {
        requestId ??= NextRequestId();
        var message = new ClientMessage
        {
            Request = new InferRequest
            {
                RequestId = requestId,
                Payload = UnsafeByteOperations.UnsafeWrap(payload),
                TopK = Options.TopK,
                ReturnTensor = Options.ReturnTensor,
                Tasks = { Options.Tasks },
            },
        };
        int messageBytes = message.CalculateSize();
        var time = Options.Time;
        var retry = Options.Retry;
        long start = time.GetTimestamp();
        int moves = 0;
        for (int attempt = 1; ; attempt++)
        {
            SplitInferenceException failure;
            Connection? tried = null;
            try
            {
                var connection = tried = await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
                var answer = connection.Expect(requestId);
                var shaper = _shaper;
                if (_bitErrors is not null)
                {
                    byte[] damaged = payload.ToArray();
                    _bitErrors.Damage(damaged);
                    message.Request.Payload = UnsafeByteOperations.UnsafeWrap(damaged);
                }
                var uplink = shaper.UplinkDelay(messageBytes);
                await LinkShaper.WaitAsync(uplink, cancellationToken).ConfigureAwait(false);
                await connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
                long sentAt = Stopwatch.GetTimestamp();
                // A try waits no longer than the request's deadline has left (but a moment at least, for a last try).
                var tryTimeout = Min(Options.RequestTimeout, Max(retry.Deadline - time.GetElapsedTime(start), TimeSpan.FromMilliseconds(100)));
                InferResponse response;
                try { response = await answer.WaitAsync(tryTimeout, time, cancellationToken).ConfigureAwait(false); }
                catch (TimeoutException)
                {
                    connection.Forget(requestId);
                    throw new SplitInferenceException(ErrorCode.Unavailable, $"no answer within {tryTimeout.TotalSeconds:0.###} s");
                }
                double roundTripMs = Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds;
                var downlink = shaper.DownlinkDelay(response.CalculateSize());
                await LinkShaper.WaitAsync(downlink, cancellationToken).ConfigureAwait(false);
                if (response.Error is null)
                {
                    var timing = response.Timing.ToCleave();
                    double serverMs = timing.QueueMs + timing.DecodeMs + timing.TailMs;
                    return new SplitResult(requestId, response.Top.ToCleave(), response.OutputFrame.IsEmpty ? null : response.OutputFrame.ToByteArray(),
                        timing, attempt, response.Replayed, payload.Length, uplink.TotalMilliseconds,
                        downlink.TotalMilliseconds + Math.Max(0, roundTripMs - serverMs), time.GetElapsedTime(start).TotalMilliseconds)
                    { ServerId = connection.Welcome?.ServerId ?? "", Tasks = [.. response.Tasks.Select(TaskAnswer.From)] };
                }
                failure = SplitInferenceException.FromError(response.Error);
            }
            catch (SplitInferenceException e) when (e.IsTransient) { failure = e; }
            catch (Exception e) when (IsTransport(e) && !cancellationToken.IsCancellationRequested)
            {
                failure = new SplitInferenceException(ErrorCode.Unavailable, $"the connection failed: {e.Message}", 0, e);
            }
            Options.OnTryFailed?.Invoke(failure);
            if (!failure.IsTransient) throw failure;
            TimeSpan wait;
            // An overloaded server's retry hint is about its own queue: another server is tried at once. A request that
            // every server has refused waits for the hint, so a saturated cluster is not flooded with instant retries.
            if (failure is { Code: SplitErrorCode.ResourceExhausted, FromServer: true } && moves < _servers.Count - 1
                && await MoveOnAsync(tried, cancellationToken).ConfigureAwait(false))
            {
                moves++;
                wait = TimeSpan.Zero;
            }
            else lock (_jitterLock) wait = retry.DelayBefore(attempt, failure.RetryAfterMs, _jitter);
            var elapsed = time.GetElapsedTime(start);
            if (attempt >= retry.MaxAttempts || elapsed + wait >= retry.Deadline)
            {
                // Out of tries: one try means the caller counts refusals itself, so it gets the failure as it came.
                if (retry.MaxAttempts == 1) throw failure;
                throw new SplitInferenceException(failure.Code,
                    $"request {requestId} failed after {attempt} tries in {elapsed.TotalSeconds:0.###} s " +
                    $"({(attempt >= retry.MaxAttempts ? "no tries left" : $"deadline {retry.Deadline.TotalSeconds:0.###} s")}): {failure.Message}",
                    failure.RetryAfterMs, failure)
                { FromServer = failure.FromServer, DeadlineExceeded = true };
            }
            Interlocked.Increment(ref _retries);
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// One round trip of a Ping through the emulated link both ways (the server answers at once, outside its
    /// queue): an RTT sample in milliseconds that costs the server nothing and counts as no request or error.
    /// Throws <see cref="SplitInferenceException"/> (Unavailable) when no Pong comes within the request timeout.
    /// </summary>
    public async Task<double> PingAsync(CancellationToken cancellationToken = default)
    {
        var connection = await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        ulong nonce = (ulong)Interlocked.Increment(ref _pingCounter);
        var message = new ClientMessage { Ping = new Ping { Nonce = nonce } };
        long start = Stopwatch.GetTimestamp();
        var pong = connection.ExpectPong(nonce);
        var shaper = _shaper;
        await LinkShaper.WaitAsync(shaper.UplinkDelay(message.CalculateSize()), cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
            await pong.WaitAsync(Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) { throw new SplitInferenceException(ErrorCode.Unavailable, $"no pong within {Options.RequestTimeout.TotalSeconds:0.###} s"); }
        catch (Exception e) when (IsTransport(e) && !cancellationToken.IsCancellationRequested)
        {
            throw new SplitInferenceException(ErrorCode.Unavailable, $"the connection failed: {e.Message}", 0, e);
        }
        finally { connection.ForgetPong(nonce); }
        await LinkShaper.WaitAsync(shaper.DownlinkDelay(new ServerMessage { Pong = new Pong { Nonce = nonce } }.CalculateSize()), cancellationToken).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>A failed first connect worth trying again: the server is not there (yet), not a refusal or a TLS mismatch.</summary>
    private static bool IsUnreachable(Exception e) =>
        (e is SplitInferenceException { IsTransient: true, FromServer: false } or RpcException { StatusCode: StatusCode.Unavailable } or IOException or HttpRequestException)
        && !Causes(e).Any(c => c is System.Security.Authentication.AuthenticationException);

    /// <summary>The address answered "nobody here" (connection refused) or does not resolve: not a slow or broken server.</summary>
    private static bool NothingListening(Exception e) => Causes(e).OfType<System.Net.Sockets.SocketException>().FirstOrDefault()?.SocketErrorCode is
        System.Net.Sockets.SocketError.ConnectionRefused or System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData;

    private static string UnreachableReason(Exception e) => Causes(e).OfType<System.Net.Sockets.SocketException>().FirstOrDefault()?.SocketErrorCode switch
    {
        System.Net.Sockets.SocketError.ConnectionRefused => "connection refused",
        System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData => "host not found",
        System.Net.Sockets.SocketError.TimedOut => "connection timed out",
        System.Net.Sockets.SocketError.NetworkUnreachable or System.Net.Sockets.SocketError.HostUnreachable => "network unreachable",
        _ => e.Message,
    };

    private static IEnumerable<Exception> Causes(Exception e)
    {
        for (Exception? c = e; c is not null; c = c.InnerException) yield return c;
    }

    private static bool IsTransport(Exception e) => e is RpcException or IOException or HttpRequestException or ObjectDisposedException or InvalidOperationException;

    /// <summary>
    /// The server of <paramref name="overloaded"/> refused a request as overloaded: with other servers to go to, the
    /// client moves to the next (once per stream, however many of its requests were refused) and half-closes the old
    /// stream, so the requests that server had accepted are still answered there and none runs twice. True when the
    /// client uses another stream now.
    /// </summary>
    private async Task<bool> MoveOnAsync(Connection? overloaded, CancellationToken cancellationToken)
    {
        if (overloaded is null || _servers.Count < 2) return false;
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection != overloaded) return _connection is not null; // another refused request moved already
            _servers.MoveOn();
            _connection = null;
            Interlocked.Increment(ref _failovers);
            LeftPreferred();
        }
        finally { _connectLock.Release(); }
        _ = overloaded.CloseAsync(Options.RequestTimeout);
        return true;
    }

    /// <summary>The client is not on its preferred server now: the first fail-back probe is one interval away.</summary>
    private void LeftPreferred()
    {
        if (!_servers.OnPreferred && Options.FailBackAfter is { } after)
            Volatile.Write(ref _nextFailBackProbeAt, Options.Time.GetTimestamp() + (long)(after.TotalSeconds * Options.Time.TimestampFrequency));
    }

    /// <summary>
    /// Off the request path: after <see cref="SplitClientOptions.FailBackAfter"/> away from the preferred server, one
    /// handshake with it at a time; when it answers, its stream becomes the client's and the old one is half-closed
    /// (what it had accepted is answered there). A failed probe waits another interval.
    /// </summary>
    private void ProbePreferredWhenDue()
    {
        if (Options.FailBackAfter is null || Volatile.Read(ref _nextFailBackProbeAt) == 0 || Options.Time.GetTimestamp() < Volatile.Read(ref _nextFailBackProbeAt)) return;
        if (Interlocked.CompareExchange(ref _probing, 1, 0) != 0) return;
        _ = Task.Run(async () =>
        {
            var probe = new Connection(this, _stubs[0], _servers[0]);
            try
            {
                await probe.HandshakeAsync(_disposed.Token).ConfigureAwait(false);
                Connection? old;
                await _connectLock.WaitAsync(_disposed.Token).ConfigureAwait(false);
                try
                {
                    old = _connection;
                    _connection = probe;
                    _servers.ReturnToPreferred();
                    _nextFailBackProbeAt = 0;
                    Interlocked.Increment(ref _failBacks);
                }
                finally { _connectLock.Release(); }
                if (old is not null) _ = old.CloseAsync(Options.RequestTimeout);
            }
            catch (Exception e) when (e is SplitInferenceException or RpcException or IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                probe.Dispose();
                LeftPreferred();
            }
            finally { Volatile.Write(ref _probing, 0); }
        });
    }

    /// <summary>
    /// The open stream, or a new one (handshaken) when there is none or it broke. Reconnects are spaced by jittered
    /// exponential backoff after failed ones (a dead server is not dialled by every waiting request in a tight loop),
    /// and only one runs at a time; requests queued behind it use the stream it opens.
    /// </summary>
    private async Task<Connection> EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        ProbePreferredWhenDue();
        var current = _connection;
        if (current is { IsBroken: false }) return current;
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _connection;
            if (current is { IsBroken: false }) return current;
            var time = Options.Time;
            long now = time.GetTimestamp();
            if (now < _nextConnectAt)
                await Task.Delay(time.GetElapsedTime(now, _nextConnectAt), time, cancellationToken).ConfigureAwait(false);
            Connection connection;
            while (true)
            {
                connection = new Connection(this, _stubs[_servers.CurrentIndex], _servers.Current);
                try
                {
                    await connection.HandshakeAsync(cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (Exception e)
                {
                    connection.Dispose();
                    // An unreachable server is left for the next address at once; the backoff waits only after a
                    // whole round failed. A refusal (credentials, manifest) or a cancellation ends the connect here.
                    bool unreachable = IsUnreachable(e) && !cancellationToken.IsCancellationRequested;
                    if (unreachable && _servers.Count > 1)
                    {
                        Interlocked.Increment(ref _failovers);
                        bool round = _servers.Failed();
                        LeftPreferred();
                        if (!round) continue;
                    }
                    TimeSpan wait;
                    lock (_jitterLock) wait = Options.Retry.DelayBefore(++_connectFailures, 0, _jitter);
                    _nextConnectAt = time.GetTimestamp() + (long)(wait.TotalSeconds * time.TimestampFrequency);
                    throw;
                }
            }
            _servers.Succeeded();
            _connectFailures = 0;
            if (current is not null)
            {
                Interlocked.Increment(ref _reconnects);
                current.Dispose();
            }
            _connection = connection;
            return connection;
        }
        finally { _connectLock.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        var connection = _connection;
        if (connection is not null) await connection.CloseAsync().ConfigureAwait(false);
        foreach (var channel in _channels) channel.Dispose();
        _connectLock.Dispose();
        _disposed.Dispose();
    }

    /// <summary>One open stream: its writer (one write at a time), its reader loop, and the answers it waits for.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly SplitClient _owner;
        private readonly AsyncDuplexStreamingCall<ClientMessage, ServerMessage> _call;
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private readonly ConcurrentDictionary<string, TaskCompletionSource<InferResponse>> _waiting = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _pongs = new();
        private readonly TaskCompletionSource<Welcome> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _cancel;
        private Task? _reader;
        private volatile bool _broken;

        public Connection(SplitClient owner, SplitInference.SplitInferenceClient stub, Uri server)
        {
            _owner = owner;
            Server = server;
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(owner._disposed.Token);
            _call = stub.Infer(owner.Options.Credentials.Headers(), cancellationToken: _cancel.Token);
        }

        /// <summary>The address this stream was opened to.</summary>
        public Uri Server { get; }

        public bool IsBroken => _broken;

        public Welcome? Welcome { get; private set; }

        public async Task HandshakeAsync(CancellationToken cancellationToken)
        {
            var options = _owner.Options;
            var hello = new Hello { ClientId = options.ClientId, ManifestHash = options.ManifestHash, Mode = options.Mode };
            hello.Codecs.AddRange(options.Codecs);
            _reader = ReadAll();
            // The server may refuse the call before the Hello is written: the write then fails with the call's status.
            try { await SendAsync(new ClientMessage { Hello = hello }, cancellationToken).ConfigureAwait(false); }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
            {
                Dispose();
                throw Unauthenticated(e);
            }
            Welcome welcome;
            try { welcome = await _welcome.Task.WaitAsync(options.ConnectTimeout, options.Time, cancellationToken).ConfigureAwait(false); }
            catch (TimeoutException) { throw new SplitInferenceException(ErrorCode.Unavailable, $"no handshake answer from {Server} within {options.ConnectTimeout.TotalSeconds:0.#} s"); }
            if (welcome.Error is { } error)
            {
                Dispose();
                throw SplitInferenceException.FromError(error);
            }
            Welcome = welcome;
        }

        private static SplitInferenceException Unauthenticated(RpcException refused) =>
            new(ErrorCode.Unauthenticated, $"the server refused this client's credentials: {refused.Status.Detail}", 0, refused) { FromServer = true };

        /// <summary>Registers interest in a Pong before its Ping is sent.</summary>
        public Task ExpectPong(ulong nonce) =>
            _pongs.GetOrAdd(nonce, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public void ForgetPong(ulong nonce) => _pongs.TryRemove(nonce, out _);

        /// <summary>Stops waiting for an answer that timed out (a late one then counts as a duplicate).</summary>
        public void Forget(string requestId) => _waiting.TryRemove(requestId, out _);

        /// <summary>Registers interest in an answer before sending, so a fast answer cannot be missed.</summary>
        public Task<InferResponse> Expect(string requestId) =>
            _waiting.GetOrAdd(requestId, _ => new TaskCompletionSource<InferResponse>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public async Task SendAsync(ClientMessage message, CancellationToken cancellationToken)
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try { await _call.RequestStream.WriteAsync(message, cancellationToken).ConfigureAwait(false); }
            catch
            {
                _broken = true;
                throw;
            }
            finally { _writeLock.Release(); }
        }

        private async Task ReadAll()
        {
            Exception? failure = null;
            try
            {
                await foreach (var message in _call.ResponseStream.ReadAllAsync(_cancel.Token).ConfigureAwait(false))
                {
                    if (message.KindCase == ServerMessage.KindOneofCase.Welcome) _welcome.TrySetResult(message.Welcome);
                    else if (message.KindCase == ServerMessage.KindOneofCase.Response)
                    {
                        if (_waiting.TryRemove(message.Response.RequestId, out var waiter)) waiter.TrySetResult(message.Response);
                        else Interlocked.Increment(ref _owner._duplicates);
                    }
                    else if (message.KindCase == ServerMessage.KindOneofCase.Pong && _pongs.TryGetValue(message.Pong.Nonce, out var pong)) pong.TrySetResult();
                }
            }
            catch (Exception e) { failure = e; }
            _broken = true;
            // Refused credentials are final: retrying the same key cannot help, so it is not a transient Unavailable.
            var lost = failure is RpcException { StatusCode: StatusCode.Unauthenticated } refused
                ? Unauthenticated(refused)
                : new SplitInferenceException(ErrorCode.Unavailable,
                    failure is null ? "the server ended the stream" : $"the stream broke: {failure.Message}", 0, failure);
            _welcome.TrySetException(lost);
            foreach (var key in _waiting.Keys)
                if (_waiting.TryRemove(key, out var waiter)) waiter.TrySetException(lost);
            foreach (var key in _pongs.Keys)
                if (_pongs.TryRemove(key, out var pong)) pong.TrySetException(lost);
        }

        /// <summary>Half-closes the stream so the server finishes what it accepted, then waits (at most <paramref name="drain"/>) for the reader.</summary>
        public async Task CloseAsync(TimeSpan? drain = null)
        {
            try
            {
                await _writeLock.WaitAsync().ConfigureAwait(false);
                try { await _call.RequestStream.CompleteAsync().ConfigureAwait(false); }
                finally { _writeLock.Release(); }
                if (_reader is not null) await _reader.WaitAsync(drain ?? TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or IOException or InvalidOperationException or TimeoutException or OperationCanceledException) { }
            Dispose();
        }

        public void Dispose()
        {
            _broken = true;
            try { _cancel.Cancel(); } catch (ObjectDisposedException) { }
            _call.Dispose();
        }
    }
}
