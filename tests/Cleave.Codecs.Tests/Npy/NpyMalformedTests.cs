using Cleave.Codecs.Npy;

namespace Cleave.Codecs.Tests.Npy;

/// <summary>Every kind of bad file is a <see cref="FrameFormatException"/> whose error and message name the problem.</summary>
public sealed class NpyMalformedTests
{
    private const string GoodDict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    private static readonly byte[] GoodData = NpyTestBytes.Float32Data(1f, 2f);

    private static FrameFormatException Refused(byte[] file, DecodeLimits? limits = null) =>
        Assert.Throws<FrameFormatException>(() => NpyTestBytes.ReadBytes(file, limits));

    private static void AssertRefused(byte[] file, FrameError error, params string[] messageParts)
    {
        FrameFormatException exception = Refused(file);
        Assert.Equal(error, exception.Error);
        foreach (string part in messageParts) Assert.Contains(part, exception.Message);
    }

    [Fact]
    public void BadMagic()
    {
        byte[] file = NpyTestBytes.Build(GoodDict, GoodData);
        file[1] = (byte)'n';
        AssertRefused(file, FrameError.BadMagic, "not a .npy file", "\\x93NUMPY");
        AssertRefused("PK\x03\x04 a zip file"u8.ToArray(), FrameError.BadMagic, "not a .npy file");
    }

    [Fact]
    public void EmptyAndTinyInputsAreTruncated()
    {
        AssertRefused([], FrameError.Truncated, "empty");
        AssertRefused([0x93, (byte)'N', (byte)'U'], FrameError.Truncated, "3 bytes");
        AssertRefused([.. NpyTestBytes.Magic, 1, 0, 0x40], FrameError.Truncated, "header length");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(0, 0)]
    [InlineData(4, 0)]
    [InlineData(2, 5)]
    public void UnsupportedVersion(byte major, byte minor)
    {
        byte[] file = NpyTestBytes.Build(GoodDict, GoodData);
        file[6] = major;
        file[7] = minor;
        AssertRefused(file, FrameError.UnsupportedVersion, $"version {major}.{minor} is not supported");
    }

    [Theory]
    [InlineData("'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "must start with '{'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", "no closing '}'")]
    [InlineData("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", "expected ',' or '}'")]
    [InlineData("{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}", "expected ':' after key 'descr'")]
    [InlineData("{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}", "expected ':' after key 'descr: '")]
    [InlineData("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", "expected ',' or '}' between entries at offset 17, found 'fortran_order'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': dims}", "unknown name 'dims'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 'abc}", "unterminated string")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "unexpected text after the closing '}'")]
    [InlineData("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", "unknown name 'false'")]
    [InlineData("{'fortran_order': False, 'shape': (2,)}", "missing key 'descr'")]
    [InlineData("{'descr': '<f4', 'shape': (2,)}", "missing key 'fortran_order'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unexpected key 'extra'")]
    [InlineData("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "duplicate key 'descr'")]
    [InlineData("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "'fortran_order' must be True or False")]
    [InlineData("{'descr': 4, 'fortran_order': False, 'shape': (2,)}", "'descr' must be a string")]
    [InlineData("{3: '<f4', 'fortran_order': False, 'shape': (2,)}", "dict keys must be strings")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': ((((((((((2,),),),),),),),),),)}", "nested deeper")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': @}", "unexpected character '@'")]
    [InlineData("", "the end of the header")]
    public void MalformedHeaderDict(string dict, string problem) =>
        AssertRefused(NpyTestBytes.Build(dict, GoodData), FrameError.BadParameters, "malformed .npy header dict", problem);

    [Theory]
    [InlineData("<i2")]
    [InlineData("<u4")]
    [InlineData("<c8")]
    [InlineData("|O")]
    [InlineData("<U3")]
    [InlineData("float32")]
    public void UnknownDataType(string descr) =>
        AssertRefused(NpyTestBytes.Build($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}", GoodData),
            FrameError.BadDataType, $"unsupported .npy dtype '{descr}'", "supported:");

    [Theory]
    [InlineData("=f4")]
    [InlineData("|f4")]
    [InlineData("f4")]
    public void MultiByteTypeWithoutByteOrder(string descr) =>
        AssertRefused(NpyTestBytes.Build($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}", GoodData),
            FrameError.BadDataType, "does not state a byte order");

    [Fact]
    public void StructuredDataType() =>
        AssertRefused(NpyTestBytes.Build("{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (1,), }", GoodData),
            FrameError.BadDataType, "structured .npy dtypes");

    [Fact]
    public void FortranOrder() =>
        AssertRefused(NpyTestBytes.Build("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new byte[24]),
            FrameError.BadParameters, "Fortran (column-major) order", "np.ascontiguousarray");

    [Theory]
    [InlineData("(2, -1)", "entry 1 is negative (-1)")]
    [InlineData("(2, 'a')", "entry 1 must be an integer")]
    [InlineData("(2, None)", "entry 1 must be an integer, not None")]
    [InlineData("2", "must be a tuple of integers")]
    [InlineData("(1, 1, 1, 1, 1, 1, 1, 1, 2)", "rank 9, more than the maximum of 8")]
    [InlineData("(99999999999999999999,)", "is too large")]
    public void BadShape(string shape, string problem) =>
        AssertRefused(NpyTestBytes.Build($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", GoodData),
            FrameError.BadShape, problem);

    [Theory]
    [InlineData("(65536, 65536)", "more than 2147483647 elements")]
    [InlineData("(3000000000, 0)", "dimension larger than 2147483647")]
    [InlineData("(9223372036854775807, 9223372036854775807)", "dimension larger than")]
    [InlineData("(1024, 1024, 65)", "needs 272629760 bytes, more than the decode limit of 268435456 bytes")]
    public void ShapeTooLarge(string shape, string problem) =>
        AssertRefused(NpyTestBytes.Build($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", GoodData),
            FrameError.LimitExceeded, problem);

    [Fact]
    public void LimitsCountAtLeastTheStoredBytesBeforeReadingData()
    {
        var limits = new DecodeLimits { MaxDecodedBytes = 100 };
        // 13 int64 elements need 104 bytes (more than their 52 as float32); no data follows, yet the limit is named first.
        FrameFormatException error = Refused(NpyTestBytes.Build("{'descr': '<i8', 'fortran_order': False, 'shape': (13,), }", []), limits);
        Assert.Equal(FrameError.LimitExceeded, error.Error);
        Assert.Contains("needs 104 bytes", error.Message);

        // Narrow types are counted as float32: 26 bytes of int8 become 104 bytes of float32.
        Assert.Equal(FrameError.LimitExceeded,
            Refused(NpyTestBytes.Build("{'descr': '|i1', 'fortran_order': False, 'shape': (26,), }", new byte[26]), limits).Error);
        Assert.Equal([0f], NpyTestBytes.ReadBytes(
            NpyTestBytes.Build("{'descr': '|i1', 'fortran_order': False, 'shape': (25,), }", new byte[25]), limits).ToFloat32()[..1]);
    }

    [Fact]
    public void HeaderLengthAboveTheCap()
    {
        byte[] file = [.. NpyTestBytes.Magic, 2, 0, 0, 0, 0, 0x40]; // 1 GiB header
        AssertRefused(file, FrameError.LimitExceeded, "header length 1073741824 exceeds");
    }

    [Fact]
    public void TruncatedHeader()
    {
        byte[] file = NpyTestBytes.Build(GoodDict, GoodData);
        AssertRefused(file[..40], FrameError.Truncated, "truncated .npy: the header needs 118 bytes but only 30 remain");
    }

    [Fact]
    public void TruncatedData()
    {
        byte[] file = NpyTestBytes.Build(GoodDict, GoodData);
        AssertRefused(file[..^1], FrameError.Truncated, "the data of shape (2,) '<f4' needs 8 bytes but only 7 remain");
    }

    [Fact]
    public void TruncatedDataOnANonSeekableStream()
    {
        byte[] file = NpyTestBytes.Build("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", new byte[23]);
        var error = Assert.Throws<FrameFormatException>(() => NpyFile.Read(new ForwardOnlyStream(file)));
        Assert.Equal(FrameError.Truncated, error.Error);
        Assert.Contains("needs 24 bytes but only 23 remain", error.Message);

        byte[] ints = NpyTestBytes.Build("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", new byte[5]);
        error = Assert.Throws<FrameFormatException>(() => NpyFile.Read(new ForwardOnlyStream(ints)));
        Assert.Contains("needs 12 bytes but only 5 remain", error.Message);
    }

    /// <summary>A stream that cannot seek and returns at most 3 bytes per read, like a socket.</summary>
    internal sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 3), bytes.Length - _position);
            Array.Copy(bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
