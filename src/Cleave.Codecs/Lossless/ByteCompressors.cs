using System.Buffers;
using System.IO.Compression;
using ZstdSharp;

namespace Cleave.Codecs;

/// <summary>
/// General-purpose lossless compressors used as references (zstd, deflate), over float bytes or quantized symbols.
/// Decompression writes into a buffer of the exact expected size, so a hostile stream cannot make it allocate more.
/// </summary>
internal static class ByteCompressors
{
    [ThreadStatic] private static Compressor? t_zstd;
    [ThreadStatic] private static int t_zstdLevel;
    [ThreadStatic] private static Decompressor? t_unzstd;

    public static void ZstdCompress(ReadOnlySpan<byte> source, int level, IBufferWriter<byte> output)
    {
        if (t_zstd is null || t_zstdLevel != level)
        {
            t_zstd?.Dispose();
            t_zstd = new Compressor(level);
            t_zstdLevel = level;
        }
        int bound = Compressor.GetCompressBound(source.Length);
        int written = t_zstd.Wrap(source, output.GetSpan(bound));
        output.Advance(written);
    }

    public static void ZstdDecompress(ReadOnlySpan<byte> source, Span<byte> destination, string what)
    {
        var decompressor = t_unzstd ??= new Decompressor();
        int written;
        try
        {
            written = decompressor.Unwrap(source, destination);
        }
        catch (ZstdException e)
        {
            throw new FrameFormatException(FrameError.CorruptPayload, $"{what}: zstd stream is corrupt or larger than the shape allows ({e.Message})");
        }
        if (written != destination.Length)
            throw new FrameFormatException(FrameError.CorruptPayload, $"{what}: zstd stream holds {written} bytes, the shape needs {destination.Length}");
    }

    public static void DeflateCompress(ReadOnlySpan<byte> source, int level, IBufferWriter<byte> output)
    {
        using var stream = new BufferWriterStream(output);
        using (var deflate = new DeflateStream(stream, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
            deflate.Write(source);
    }

    public static unsafe void DeflateDecompress(ReadOnlySpan<byte> source, Span<byte> destination, string what)
    {
        if (source.IsEmpty) // DeflateStream writes nothing at all for empty input
        {
            if (destination.IsEmpty) return;
            throw new FrameFormatException(FrameError.CorruptPayload, $"{what}: deflate stream is empty, the shape needs {destination.Length} bytes");
        }
        fixed (byte* pointer = source)
        {
            using var input = new UnmanagedMemoryStream(pointer, source.Length);
            using var inflate = new DeflateStream(input, CompressionMode.Decompress);
            try
            {
                int filled = 0;
                while (filled < destination.Length)
                {
                    int read = inflate.Read(destination[filled..]);
                    if (read == 0)
                        throw new FrameFormatException(FrameError.CorruptPayload, $"{what}: deflate stream ends after {filled} bytes, the shape needs {destination.Length}");
                    filled += read;
                }
                Span<byte> probe = stackalloc byte[1];
                if (inflate.Read(probe) != 0)
                    throw new FrameFormatException(FrameError.CorruptPayload, $"{what}: deflate stream holds more than the {destination.Length} bytes the shape needs");
            }
            catch (InvalidDataException e)
            {
                throw new FrameFormatException(FrameError.CorruptPayload, $"{what}: deflate stream is corrupt ({e.Message})");
            }
        }
    }

    /// <summary>A write-only stream that appends to an <see cref="IBufferWriter{T}"/>, so DeflateStream needs no extra copy.</summary>
    private sealed class BufferWriterStream(IBufferWriter<byte> output) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => output.Write(buffer);
    }
}
