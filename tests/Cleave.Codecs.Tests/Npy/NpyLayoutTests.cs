using System.Buffers.Binary;
using System.Text;
using Cleave.Codecs.Npy;

namespace Cleave.Codecs.Tests.Npy;

/// <summary>The bytes on disk, checked against the format description rather than against the reader.</summary>
public sealed class NpyLayoutTests
{
    [Fact]
    public void WritesTheExactVersion1Layout()
    {
        byte[] file = NpyTestBytes.WriteBytes(NpyArray.FromFloat32([0f, 1f, 2f, 3f, 4f, 5f], new TensorShape(2, 3)));

        const string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        // 6 magic + 2 version + 2 length + 59 dict + 1 newline = 70, padded to 128: 58 spaces, header length 118.
        var expected = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0 };
        expected.AddRange(Encoding.ASCII.GetBytes(dict));
        expected.AddRange(Enumerable.Repeat((byte)' ', 58));
        expected.Add((byte)'\n');
        for (int i = 0; i < 6; i++) expected.AddRange(BitConverter.GetBytes((float)i)); // little-endian machine
        Assert.True(BitConverter.IsLittleEndian);

        Assert.Equal(expected.ToArray(), file);
        Assert.Equal(128 + 24, file.Length);
    }

    [Theory]
    [InlineData(TensorDataType.Float16, new int[0], "{'descr': '<f2', 'fortran_order': False, 'shape': (), }")]
    [InlineData(TensorDataType.Int8, new[] { 5 }, "{'descr': '|i1', 'fortran_order': False, 'shape': (5,), }")]
    [InlineData(TensorDataType.UInt8, new[] { 1, 0 }, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 0), }")]
    [InlineData(TensorDataType.Int32, new[] { 1, 2, 3, 4 }, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2, 3, 4), }")]
    [InlineData(TensorDataType.Int64, new[] { 2 }, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }")]
    public void HeaderIsTheSpecifiedDictPaddedTo64Bytes(TensorDataType type, int[] dims, string dict)
    {
        var shape = new TensorShape(dims);
        byte[] data = new byte[shape.ElementCount * type.SizeInBytes()];
        byte[] file = NpyTestBytes.WriteBytes(NpyArray.Create(type, shape, data));

        Assert.Equal(NpyTestBytes.Build(dict, data), file);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Equal((byte)'\n', file[10 + headerLength - 1]);
    }

    [Fact]
    public void ForcedVersion2HeaderUsesAU32Length()
    {
        byte[] header = NpyFile.EncodeHeader("<f4", [3], minimumMajorVersion: 2);
        Assert.Equal(2, header[6]);
        Assert.Equal(0, header[7]);
        Assert.Equal(header.Length - 12, (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)));
        Assert.Equal(0, header.Length % 64);
    }

    [Fact]
    public void ReadsAVersion2Header()
    {
        byte[] file = NpyTestBytes.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
            NpyTestBytes.Float32Data(1, 2, 3, 4), major: 2);
        Assert.Equal(2, file[6]);

        NpyArray array = NpyTestBytes.ReadBytes(file);

        Assert.Equal(new TensorShape(2, 2), array.Shape);
        Assert.Equal([1f, 2f, 3f, 4f], array.ToFloat32());
    }

    [Fact]
    public void ReadsAVersion3Utf8Header()
    {
        // Version 3.0 differs from 2.0 only in the header's encoding (UTF-8, meant for structured field names).
        byte[] file = NpyTestBytes.Build("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
            [9, 0, 0, 0], major: 3, encoding: Encoding.UTF8);
        Assert.Equal([9f], NpyTestBytes.ReadBytes(file).ToFloat32());

        byte[] invalid = NpyTestBytes.Build("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", [9, 0, 0, 0], major: 3);
        invalid[12] = 0xff; // not UTF-8
        var error = Assert.Throws<FrameFormatException>(() => NpyTestBytes.ReadBytes(invalid));
        Assert.Contains("UTF-8", error.Message);
    }

    [Theory]
    [InlineData("{'descr':'<f4','fortran_order':False,'shape':(2,)}")] // no spaces, no trailing comma
    [InlineData("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}")] // double quotes
    [InlineData("{ 'shape' : ( 2 , ) ,\n\t'fortran_order' : False , 'descr' : '<f4' , }")] // other order, odd spacing
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }")] // Python 2 long
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }")] // a list
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }")] // a parenthesised int
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }")] // 1-D: both orders are the same bytes
    public void ToleratesHeaderVariations(string dict)
    {
        NpyArray array = NpyTestBytes.ReadBytes(NpyTestBytes.Build(dict, NpyTestBytes.Float32Data(1.5f, -2f), alignment: 16));
        Assert.Equal(new TensorShape(2), array.Shape);
        Assert.Equal([1.5f, -2f], array.ToFloat32());
    }

    [Fact]
    public void AcceptsFortranOrderWhereTheBytesAreTheSameAsCOrder()
    {
        NpyArray column = NpyTestBytes.ReadBytes(NpyTestBytes.Build(
            "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2, 1), }", NpyTestBytes.Float32Data(1f, 2f)));
        Assert.Equal([1f, 2f], column.ToFloat32());

        NpyArray empty = NpyTestBytes.ReadBytes(NpyTestBytes.Build("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 0), }", []));
        Assert.Equal(new TensorShape(2, 3, 0), empty.Shape);
    }

    [Fact]
    public void ReadsFloat64AsFloat32()
    {
        var data = new byte[4 * 8];
        double[] values = [1.0, -0.1, 1e300, double.NaN];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(i * 8), values[i]);
        NpyArray array = NpyTestBytes.ReadBytes(NpyTestBytes.Build("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", data));

        Assert.Equal(TensorDataType.Float32, array.DataType);
        float[] read = array.ToFloat32();
        Assert.Equal(1f, read[0]);
        Assert.Equal(-0.1f, read[1]);
        Assert.Equal(float.PositiveInfinity, read[2]);
        Assert.True(float.IsNaN(read[3]));
    }

    [Fact]
    public void ReadsLargeFloat64ArraysAcrossChunks()
    {
        const int count = 20_000; // more than one 64 KiB conversion chunk
        var data = new byte[count * 8];
        for (int i = 0; i < count; i++) BinaryPrimitives.WriteDoubleBigEndian(data.AsSpan(i * 8), i * 0.5);
        float[] read = NpyTestBytes.ReadBytes(
            NpyTestBytes.Build("{'descr': '>f8', 'fortran_order': False, 'shape': (20000,), }", data)).ToFloat32();
        for (int i = 0; i < count; i++) Assert.Equal(i * 0.5f, read[i]);
    }

    [Fact]
    public void ConvertsBigEndianToLittleEndian()
    {
        var f4 = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(f4, 3.25f);
        BinaryPrimitives.WriteSingleBigEndian(f4.AsSpan(4), -1f);
        NpyArray floats = NpyTestBytes.ReadBytes(NpyTestBytes.Build("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f4));
        Assert.Equal([3.25f, -1f], floats.ToFloat32());
        Assert.Equal(NpyTestBytes.Float32Data(3.25f, -1f), floats.Data.ToArray());

        var i8 = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(i8, -5);
        NpyArray longs = NpyTestBytes.ReadBytes(NpyTestBytes.Build("{'descr': '>i8', 'fortran_order': False, 'shape': (), }", i8));
        Assert.Equal(TensorDataType.Int64, longs.DataType);
        Assert.Equal(-5, BinaryPrimitives.ReadInt64LittleEndian(longs.Data.Span));

        var f2 = new byte[2];
        BinaryPrimitives.WriteHalfBigEndian(f2, (Half)0.5);
        Assert.Equal([0.5f], NpyTestBytes.ReadBytes(NpyTestBytes.Build("{'descr': '>f2', 'fortran_order': False, 'shape': (1,), }", f2)).ToFloat32());
    }

    [Fact]
    public void ReadsBoolAsUInt8()
    {
        NpyArray array = NpyTestBytes.ReadBytes(NpyTestBytes.Build("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", [1, 0, 1]));
        Assert.Equal(TensorDataType.UInt8, array.DataType);
        Assert.Equal([1f, 0f, 1f], array.ToFloat32());
    }
}
