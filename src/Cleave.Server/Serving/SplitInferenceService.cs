using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Preprocessing;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving.Security;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Cleave.Runtime.Serving;

/// <summary>
/// The <c>cleave.v1.SplitInference</c> service: one bidirectional stream per client. After the handshake every
/// request is decoded on its own task, queued for the mode's <see cref="DynamicBatcher"/>, and answered exactly once
/// (result, typed error, or refusal), in completion order. Bad input from one client never affects another's.
/// </summary>
internal sealed class SplitInferenceService(ServingState state, ILogger<SplitInferenceService> log) : SplitInference.SplitInferenceBase
{
    private const int DefaultTopK = 5;

    public override async Task Infer(IAsyncStreamReader<ClientMessage> requestStream, IServerStreamWriter<ServerMessage> responseStream,
        ServerCallContext context)
    {
        var gone = context.CancellationToken;
        var metrics = state.Metrics;
        var limits = state.Options.Limits;
        var clock = state.Options.TimeProvider;
        metrics.StreamOpened();
        log.StreamOpened(context.Peer);
        long opened = clock.GetTimestamp(), requests = 0;
        int maxInFlight = state.Options.MaxInFlightPerStream;
        using var inFlight = new SemaphoreSlim(maxInFlight);
        int answering = 0;
        // Ends the stream with a typed status: no Hello in time, idle too long, or a client that does not read.
        using var guard = new StreamGuard(clock, limits.HelloTimeout, limits.StreamIdleTimeout, () => Volatile.Read(ref answering) > 0);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(gone, guard.Token);
        var outbox = new StreamOutbox(limits.MaxOutboxMessages, limits.MaxOutboxBytes, limits.UnreadRepliesTimeout, guard, clock);
        var writer = outbox.WriteAllAsync(responseStream, metrics.BytesSent, gone);
        bool reset = false;
        try
        {
            if (!await requestStream.MoveNext(ended.Token).ConfigureAwait(false)) return;
            guard.Touch();
            metrics.BytesReceived(requestStream.Current.CalculateSize());
            if (requestStream.Current.KindCase != ClientMessage.KindOneofCase.Hello)
            {
                metrics.Error(ErrorCode.NotHandshaken);
                await outbox.PostAsync(new ServerMessage { Welcome = new Welcome { ServerId = state.ServerId, Error = new Error { Code = ErrorCode.NotHandshaken, Message = "the first message on a stream must be a Hello" } } }, ended.Token).ConfigureAwait(false);
                return;
            }
            var hello = requestStream.Current.Hello;
            var (welcome, mode) = state.Handshake(hello);
            await outbox.PostAsync(new ServerMessage { Welcome = welcome }, ended.Token).ConfigureAwait(false);
            if (mode is null)
            {
                metrics.Error(welcome.Error.Code);
                log.HandshakeRefused(context.Peer, welcome.Error.Code, welcome.Error.Message);
                return;
            }
            guard.Handshaken();
            string clientId = hello.ClientId.Length > 0 ? hello.ClientId : $"{context.Peer}/{Guid.NewGuid():N}";
            // Who is asking, as far as the server can tell (authenticated name, or the peer's address): idempotency
            // entries and quotas belong to it, not to the client id the client chose.
            var caller = CallerIdentity.Of(context, state.Options.Security.DefaultQuota);

            while (await requestStream.MoveNext(ended.Token).ConfigureAwait(false))
            {
                guard.Touch();
                var message = requestStream.Current;
                metrics.BytesReceived(message.CalculateSize());
                if (message.KindCase == ClientMessage.KindOneofCase.Ping)
                {
                    // Answered ahead of any queued work: the probe measures the link, not the server's load. A full
                    // reply queue holds the reader here: a client that does not read stops being read.
                    metrics.Pinged();
                    await outbox.PostAsync(new ServerMessage { Pong = new Pong { Nonce = message.Ping.Nonce } }, ended.Token).ConfigureAwait(false);
                    continue;
                }
                if (message.KindCase != ClientMessage.KindOneofCase.Request)
                {
                    metrics.Error(ErrorCode.NotHandshaken);
                    await outbox.PostAsync(new ServerMessage { Welcome = new Welcome { ServerId = state.ServerId, Mode = mode, Error = new Error { Code = ErrorCode.NotHandshaken, Message = "this stream is already handshaken; send requests" } } }, ended.Token).ConfigureAwait(false);
                    continue;
                }
                await inFlight.WaitAsync(ended.Token).ConfigureAwait(false);
                requests++;
                var request = message.Request;
                var token = ended.Token;
                Interlocked.Increment(ref answering);
                _ = Task.Run(async () =>
                {
                    try { await Answer(mode, caller, new IdempotencyKey(caller.Name, clientId, request.RequestId), request, outbox, token).ConfigureAwait(false); }
                    finally
                    {
                        Interlocked.Decrement(ref answering);
                        inFlight.Release();
                    }
                }, CancellationToken.None);
            }
        }
        catch (Exception e) when (IsClientGone(e, ended.Token))
        {
            // The client vanished mid-stream, or the guard ended the stream: queued requests are skipped by the batcher.
        }
        finally
        {
            // Answer everything accepted on this stream before the call ends (the client half-closed, or went away).
            for (int i = 0; i < maxInFlight; i++) await inFlight.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            outbox.Complete();
            reset = await FinishWriting(writer, guard, context, clock).ConfigureAwait(false);
            metrics.StreamClosed();
            log.StreamClosed(context.Peer, requests, clock.GetElapsedTime(opened).TotalSeconds);
        }
        if (guard.Status is { } status && !(gone.IsCancellationRequested && !reset))
        {
            metrics.StreamEnded(status.StatusCode);
            log.StreamEndedByServer(context.Peer, status.StatusCode, status.Detail);
            if (!reset) throw new RpcException(status);
        }
    }

    /// <summary>
    /// Waits for the stream's last replies to go out. A client that does not read holds the writer in a write for
    /// as long as it likes; once the guard has ended the stream, the write gets a short grace and then the stream is
    /// reset with ENHANCE_YOUR_CALM, which gRPC clients report as RESOURCE_EXHAUSTED (the trailers with the message
    /// cannot overtake the replies the client is not reading). True when the stream was reset.
    /// </summary>
    private static async Task<bool> FinishWriting(Task writer, StreamGuard guard, ServerCallContext context, TimeProvider clock)
    {
        try
        {
            await writer.WaitAsync(guard.Token).ConfigureAwait(false);
            return false;
        }
        catch (OperationCanceledException) { }
        try
        {
            await writer.WaitAsync(WriteGrace, clock).ConfigureAwait(false);
            return false;
        }
        catch (TimeoutException) { }
        context.GetHttpContext().Features.Get<IHttpResetFeature>()?.Reset(BufferedBodyBudget.EnhanceYourCalm);
        await writer.ConfigureAwait(false);
        return true;
    }

    private static readonly TimeSpan WriteGrace = TimeSpan.FromSeconds(1);

    private static bool IsClientGone(Exception e, CancellationToken gone) =>
        e is OperationCanceledException || e is IOException || (e is RpcException r && r.StatusCode == StatusCode.Cancelled) || gone.IsCancellationRequested;

    private async Task Answer(string mode, CallerIdentity caller, IdempotencyKey key, InferRequest request, StreamOutbox outbox, CancellationToken gone)
    {
        var metrics = state.Metrics;
        metrics.Request(mode);
        long received = Stopwatch.GetTimestamp();
        InferResponse? response;
        using var quota = state.Quotas.TryAcquire(caller);
        if (quota.Refusal is { } refusal)
            response = ErrorResponse(request.RequestId, refusal);
        else if (request.RequestId.Length == 0)
            response = ErrorResponse(request.RequestId, new SplitInferenceException(ErrorCode.InvalidRequest, "the request has no request_id (the idempotency id)"));
        else if (request.Payload.Length > state.MaxPayloadBytes(mode))
            response = ErrorResponse(request.RequestId, new SplitInferenceException(ErrorCode.MessageTooLarge,
                $"the payload is {request.Payload.Length} bytes; this server takes at most {state.MaxPayloadBytes(mode)} in mode {mode}"));
        else if (TaskSelection.Resolve(state.Backend(mode), request.Tasks) is { Error: { } taskError })
            response = ErrorResponse(request.RequestId, taskError);
        else
            response = await RunOnce(mode, key, request, gone).ConfigureAwait(false);
        if (response is null) return; // the client went away while its request waited
        if (response.Error is { } error)
        {
            metrics.Error(error.Code);
            if (error.Code == ErrorCode.Internal) log.RequestFailed(request.RequestId, caller.Name, mode, error.Code, error.Message);
            else log.RequestRefused(request.RequestId, caller.Name, mode, error.Code, error.Message);
        }
        else metrics.Answered(mode, Stopwatch.GetElapsedTime(received).TotalSeconds);
        await outbox.PostAsync(new ServerMessage { Response = response }, gone).ConfigureAwait(false);
    }

    /// <summary>
    /// The request's answer, run at most once per (caller, client, id) and payload; retries and duplicates get the same
    /// answer, marked replayed; the same id with another payload gets IDEMPOTENCY_MISMATCH.
    /// </summary>
    private async Task<InferResponse?> RunOnce(string mode, IdempotencyKey key, InferRequest request, CancellationToken gone)
    {
        var fingerprint = RequestFingerprint.Of(mode, request);
        for (int attempt = 0; ; attempt++)
        {
            var lookup = state.Cache.GetOrStart(key, fingerprint, () => Execute(mode, request, gone));
            if (lookup.Task is not { } task)
                return ErrorResponse(request.RequestId, new SplitInferenceException(ErrorCode.IdempotencyMismatch,
                    "this request_id was already used for a different request (payload, top_k or return_tensor); use a fresh id for a new request"));
            bool created = lookup.Outcome == IdempotencyOutcome.Started;
            try
            {
                var response = await task.ConfigureAwait(false);
                if (created) return response;
                state.Metrics.Replayed();
                var replay = response.Clone();
                replay.Replayed = true;
                return replay;
            }
            catch (OperationCanceledException) when (!created && attempt < 3 && !gone.IsCancellationRequested)
            {
                // The first copy of this request came on a stream that is gone and was never run: run it for this one.
            }
            catch (OperationCanceledException) { return null; }
            catch (Exception e)
            {
                return ErrorResponse(request.RequestId, e as SplitInferenceException ?? new SplitInferenceException(ErrorCode.Internal, e.Message, 0, e));
            }
        }
    }

    private async Task<InferResponse> Execute(string mode, InferRequest request, CancellationToken gone)
    {
        var backend = state.Backend(mode);
        var batcher = state.Batcher(mode);
        // Refuse before decoding when the queue is already full: an overloaded server should not spend CPU on
        // work it will turn away (TryEnqueue below still decides for requests that race past this check).
        if (batcher.Depth >= batcher.QueueCapacity) return QueueFull(request.RequestId, mode, batcher);
        var tasks = TaskSelection.Resolve(backend, request.Tasks);
        if (tasks.Error is { } taskError) return ErrorResponse(request.RequestId, taskError);
        // Each task's answer lists at most as many classes as its output has (the batcher clamps per task).
        int k = request.TopK == 0 ? DefaultTopK : (int)Math.Min(request.TopK, (uint)int.MaxValue);
        // The payload is decoded straight into a pooled buffer the item owns; the batcher copies it into its session's
        // bound input and hands the buffer back (as does every path below that ends the item unrun).
        var item = new BatchItem(backend.SampleElements, gone, k, request.ReturnTensor, tasks.Mask);
        long start = Stopwatch.GetTimestamp();
        double cpuStart = ThreadCpuClock.NowSeconds();
        try { backend.Prepare(request.Payload.Memory, item.Input); }
        catch (SplitInferenceException e)
        {
            item.ReleaseInput();
            return ErrorResponse(request.RequestId, e);
        }
        double decodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        state.Metrics.Decoded(mode, decodeMs / 1000, ThreadCpuClock.NowSeconds() - cpuStart);

        if (!batcher.TryEnqueue(item))
        {
            item.ReleaseInput();
            return QueueFull(request.RequestId, mode, batcher);
        }
        BatchResult result;
        try { result = await item.Completion.ConfigureAwait(false); }
        catch (SplitInferenceException e) { return ErrorResponse(request.RequestId, e); }

        var response = new InferResponse
        {
            RequestId = request.RequestId,
            Timing = new ServerTiming { QueueMs = result.QueueMs, DecodeMs = decodeMs, TailMs = result.TailMs, BatchSize = (uint)result.BatchSize },
        };
        // The first task asked for also fills the single-task fields, so a client that names no task reads its answer
        // where it always did.
        for (int i = 0; i < tasks.Indices.Length; i++)
        {
            int index = tasks.Indices[i];
            var answer = TaskResultOf(backend.Tasks[index], result.Tasks[index]!, result.TaskMs[index]);
            if (i == 0)
            {
                response.Top.Add(answer.Top);
                response.OutputFrame = answer.OutputFrame;
            }
            if (request.Tasks.Count > 0) response.Tasks.Add(answer);
        }
        return response;
    }

    /// <summary>One task's part of the answer, from what the batcher read off that task's output.</summary>
    private static TaskResult TaskResultOf(TaskModel task, TaskOutput output, double tailMs)
    {
        var result = new TaskResult { Name = task.Name, TailMs = tailMs };
        foreach (var (index, score) in output.Top)
            result.Top.Add(new ClassScore { ClassIndex = index, Score = score });
        if (!output.OutputFrame.IsEmpty) result.OutputFrame = UnsafeByteOperations.UnsafeWrap(output.OutputFrame);
        return result;
    }

    private static InferResponse QueueFull(string requestId, string mode, DynamicBatcher batcher) =>
        ErrorResponse(requestId, new SplitInferenceException(ErrorCode.ResourceExhausted,
            $"the {mode} queue is full ({batcher.QueueCapacity} waiting); retry later", batcher.RetryAfterMs()));

    private static InferResponse ErrorResponse(string requestId, SplitInferenceException e) =>
        new() { RequestId = requestId, Error = e.ToError() };
}
