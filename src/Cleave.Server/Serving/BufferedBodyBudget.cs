using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Bounds the request bytes the server holds unconsumed across all streams: the partial gRPC messages being
/// assembled. gRPC buffers a message until its last byte arrives, and Kestrel keeps opening the flow-control window
/// while it does, so without this a few hundred connections that each announce a large message and trickle its body
/// hold gigabytes. Every request body is read through a counting reader; the stream whose growth would take the total
/// over the budget is reset with ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED to gRPC clients) and its bytes are freed.
/// </summary>
internal static class BufferedBodyBudget
{
    /// <summary>HTTP/2 error code 0xb (RFC 9113 section 7); the gRPC spec maps it to RESOURCE_EXHAUSTED.</summary>
    public const int EnhanceYourCalm = 0xb;

    public static IApplicationBuilder UseBufferedBodyBudget(this IApplicationBuilder app, MemoryBudget budget)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(budget);
        return app.Use(next => async context =>
        {
            var feature = context.Features.Get<IRequestBodyPipeFeature>();
            if (feature is null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            var reader = new CountingReader(feature.Reader, budget, context);
            context.Features.Set<IRequestBodyPipeFeature>(new Feature(reader));
            try { await next(context).ConfigureAwait(false); }
            finally { reader.ReleaseAll(); }
        });
    }

    private sealed class Feature(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = reader;
    }

    /// <summary>Counts the bytes a read returned that the application has not consumed yet (what the pipe holds for it).</summary>
    private sealed class CountingReader(PipeReader inner, MemoryBudget budget, HttpContext context) : PipeReader
    {
        private readonly Lock _gate = new();
        private ReadOnlySequence<byte> _buffer;
        private long _held;

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            Hold(result);
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result)) return false;
            Hold(result);
            return true;
        }

        private void Hold(ReadResult result)
        {
            long length = result.Buffer.Length;
            lock (_gate)
            {
                _buffer = result.Buffer;
                long more = length - _held;
                if (more > 0 && !budget.TryReserve(more))
                {
                    // Over budget: this stream is the one growing. Free it rather than let it take the server's memory.
                    if (context.Features.Get<IHttpResetFeature>() is { } reset) reset.Reset(EnhanceYourCalm);
                    else context.Abort(); // HTTP/1.1 (TLS endpoints allow it): no stream to reset, close the connection
                    throw new IOException($"the server holds {budget.UsedBytes} bytes of partly received messages, its budget is {budget.CapacityBytes}: stream reset");
                }
                if (more < 0) budget.Release(-more);
                _held = length;
            }
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            lock (_gate)
            {
                long remaining = _buffer.Slice(consumed).Length;
                if (remaining < _held) budget.Release(_held - remaining);
                _held = remaining;
                _buffer = default;
            }
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null)
        {
            ReleaseAll();
            inner.Complete(exception);
        }

        public void ReleaseAll()
        {
            lock (_gate)
            {
                if (_held > 0) budget.Release(_held);
                _held = 0;
            }
        }
    }
}
