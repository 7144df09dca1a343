using System.Buffers;

namespace Cleave.Codecs;

/// <summary>
/// Where a codec writes its payload while <see cref="FeatureFrame.Write"/> builds a frame: straight into the caller's
/// output, just after the room left for the header, so the payload is never copied. The payload length precedes the
/// payload in a frame, so the header is filled in after the codec is done. A codec that writes more than the room it
/// was given (more than <see cref="FeatureCodec.MaxPayloadLength"/>) moves on to an overflow buffer: the frame is then
/// still right, it just costs the one copy the old writer always made.
/// </summary>
internal sealed class FramePayloadWriter : IBufferWriter<byte>
{
    private Memory<byte> _room;
    private int _written;
    private ArrayBufferWriter<byte>? _overflow;
    private bool _overflowed;

    /// <summary>True while a frame is being written with this instance (a codec that encodes a frame inside its own payload gets another).</summary>
    public bool InUse { get; private set; }

    /// <summary>True when the payload did not fit the room and lives in the overflow buffer.</summary>
    public bool Overflowed => _overflowed;

    public int WrittenCount => _overflowed ? _overflow!.WrittenCount : _written;

    /// <summary>The payload, wherever it ended up (valid until <see cref="Finish"/>).</summary>
    public ReadOnlySpan<byte> WrittenSpan => _overflowed ? _overflow!.WrittenSpan : _room.Span[.._written];

    public void Start(Memory<byte> room)
    {
        InUse = true;
        _room = room;
        _written = 0;
        _overflowed = false;
    }

    /// <summary>Forgets the caller's memory (so the thread does not keep it alive) and drops an overflow buffer grown huge.</summary>
    public void Finish()
    {
        _room = default;
        _written = 0;
        _overflowed = false;
        if (_overflow is { Capacity: > 64 << 20 }) _overflow = null;
        else _overflow?.ResetWrittenCount();
        InUse = false;
    }

    public void Advance(int count)
    {
        if (_overflowed) { _overflow!.Advance(count); return; }
        if (count < 0 || count > _room.Length - _written) throw new InvalidOperationException($"advanced {count} bytes past the {_room.Length - _written} bytes obtained");
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (!_overflowed)
        {
            if (_room.Length - _written >= Math.Max(sizeHint, 1)) return _room[_written..];
            // The codec needs more than its stated bound: carry on in a buffer of our own.
            _overflow ??= new ArrayBufferWriter<byte>(Math.Max(_written * 2, 1 << 16));
            _overflow.ResetWrittenCount();
            _overflow.Write(_room.Span[.._written]);
            _overflowed = true;
        }
        return _overflow!.GetMemory(sizeHint);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
