using System.Buffers;

namespace Cleave.Codecs.Tests.Frames;

/// <summary>
/// <see cref="FeatureCodec.Encode(ReadOnlySpan{float}, TensorShape, IBufferWriter{byte})"/> writes the payload straight
/// into the caller's buffer: one request for memory, one advance, and the frame it leaves equals the frame of the
/// array-returning Encode.
/// </summary>
public sealed class FrameWriterTests
{
    [Theory]
    [InlineData("raw")]
    [InlineData("quant:bits=8,entropy=rans")]
    [InlineData("zstd:level=3")]
    public void TheFrameIsWrittenInPlaceWithOneRequestAndOneAdvance(string spec)
    {
        var codec = FeatureCodecs.Create(spec);
        var values = SyntheticTensors.ReluLike(32 * 28 * 28, seed: 4);
        var shape = new TensorShape(1, 32, 28, 28);
        var output = new CountingWriter(checked((int)codec.GetMaxEncodedLength(shape)) + 10);
        output.Write([9, 9, 9]); // something already in the buffer stays as it was
        codec.Encode(values, shape, output);
        Assert.Equal(1, output.Requests);
        Assert.Equal(1, output.Advances);
        Assert.Equal([9, 9, 9], output.Written[..3].ToArray());
        Assert.Equal(codec.Encode(values, shape), output.Written[3..].ToArray());
    }

    [Fact]
    public void AnOutputThatGivesLessThanAskedStillGetsAWholeFrame()
    {
        // A writer that ignores the size hint for its first answer: the codec's payload overflows, then the frame is
        // placed in the next (large enough) memory the writer gives.
        var codec = FeatureCodecs.Create("quant:bits=8");
        var values = SyntheticTensors.Gaussian(5000, seed: 2);
        var output = new CountingWriter(1 << 20) { FirstAnswerBytes = 40 };
        codec.Encode(values, new TensorShape(5000), output);
        Assert.Equal(codec.Encode(values, new TensorShape(5000)), output.Written.ToArray());
    }

    private sealed class CountingWriter(int capacity) : IBufferWriter<byte>
    {
        private readonly byte[] _buffer = new byte[capacity];
        private int _written;

        public int Requests { get; private set; }
        public int Advances { get; private set; }
        public int? FirstAnswerBytes { get; init; }
        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _written);

        public void Advance(int count) { Advances++; _written += count; }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Requests++;
            if (Requests == 1 && FirstAnswerBytes is int first) return _buffer.AsMemory(_written, first);
            Assert.True(_buffer.Length - _written >= sizeHint, "the test writer is too small");
            return _buffer.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer.AsSpan(_written));
            _written += bytes.Length;
        }
    }
}
