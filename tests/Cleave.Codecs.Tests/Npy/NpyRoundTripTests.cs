using System.Buffers.Binary;
using Cleave.Codecs.Npy;

namespace Cleave.Codecs.Tests.Npy;

public sealed class NpyRoundTripTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-npy-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<TensorDataType, int[]> TypesAndShapes()
    {
        var data = new TheoryData<TensorDataType, int[]>();
        TensorDataType[] types = [TensorDataType.Float32, TensorDataType.Float16, TensorDataType.Int8,
            TensorDataType.UInt8, TensorDataType.Int32, TensorDataType.Int64];
        int[][] shapes = [[], [5], [2, 3, 4, 5], [3, 0, 2], [0]];
        foreach (TensorDataType type in types)
            foreach (int[] shape in shapes)
                data.Add(type, shape);
        return data;
    }

    [Theory]
    [MemberData(nameof(TypesAndShapes))]
    public void StreamRoundTripKeepsTypeShapeAndBytes(TensorDataType type, int[] dims)
    {
        var shape = new TensorShape(dims);
        byte[] data = NpyTestBytes.SampleData(type, shape.ElementCount, seed: dims.Length * 31 + (int)type);
        NpyArray written = NpyArray.Create(type, shape, data);

        byte[] file = NpyTestBytes.WriteBytes(written);
        NpyArray read = NpyTestBytes.ReadBytes(file);

        Assert.Equal(type, read.DataType);
        Assert.Equal(shape, read.Shape);
        Assert.Equal(data, read.Data.ToArray());
        Assert.Equal(0, (file.Length - data.Length) % 64); // the data starts 64-byte aligned
    }

    [Theory]
    [MemberData(nameof(TypesAndShapes))]
    public void FileRoundTripKeepsTypeShapeAndBytes(TensorDataType type, int[] dims)
    {
        var shape = new TensorShape(dims);
        byte[] data = NpyTestBytes.SampleData(type, shape.ElementCount, seed: 7);
        string path = Path.Combine(_folder, "a.npy");

        NpyFile.Write(path, NpyArray.Create(type, shape, data));
        NpyArray read = NpyFile.Read(path);

        Assert.Equal(type, read.DataType);
        Assert.Equal(shape, read.Shape);
        Assert.Equal(data, read.Data.ToArray());
    }

    [Fact]
    public void Float32HelpersRoundTripValues()
    {
        float[] values = SyntheticTensors.Gaussian(2 * 3 * 4, seed: 3);
        string path = Path.Combine(_folder, "f.npy");

        NpyFile.WriteFloat32(path, values, new TensorShape(2, 3, 4));
        (float[] read, TensorShape shape) = NpyFile.ReadFloat32(path);

        Assert.Equal(new TensorShape(2, 3, 4), shape);
        Assert.Equal(values, read);
    }

    [Fact]
    public void Float16KeepsSpecialValuesAndConvertsToFloat32()
    {
        Half[] halves = [(Half)1, (Half)(-2.5), (Half)0.333, Half.MaxValue, Half.MinValue, Half.Epsilon,
            Half.PositiveInfinity, Half.NegativeInfinity, Half.NaN, Half.NegativeZero];
        var data = new byte[halves.Length * 2];
        for (int i = 0; i < halves.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(i * 2), halves[i]);

        NpyArray read = NpyTestBytes.ReadBytes(NpyTestBytes.WriteBytes(
            NpyArray.Create(TensorDataType.Float16, new TensorShape(halves.Length), data)));
        float[] values = read.ToFloat32();

        Assert.Equal(data, read.Data.ToArray());
        for (int i = 0; i < halves.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits((float)halves[i]), BitConverter.SingleToInt32Bits(values[i]));
        Assert.Equal(65504f, values[3]);
        Assert.Equal(float.PositiveInfinity, values[6]);
        Assert.Equal(float.NegativeInfinity, values[7]);
        Assert.True(float.IsNaN(values[8]));
        Assert.True(float.IsNegative(values[9]) && values[9] == 0);
    }

    [Fact]
    public void IntegerTypesConvertToFloat32()
    {
        Assert.Equal([-128f, 127f, -1f], NpyArray.Create(TensorDataType.Int8, new TensorShape(3), [0x80, 0x7f, 0xff]).ToFloat32());
        Assert.Equal([128f, 127f, 255f], NpyArray.Create(TensorDataType.UInt8, new TensorShape(3), [0x80, 0x7f, 0xff]).ToFloat32());

        var int32 = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(int32, -7);
        BinaryPrimitives.WriteInt32LittleEndian(int32.AsSpan(4), 1 << 24);
        Assert.Equal([-7f, 16777216f], NpyArray.Create(TensorDataType.Int32, new TensorShape(2), int32).ToFloat32());

        var int64 = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(int64, long.MinValue);
        BinaryPrimitives.WriteInt64LittleEndian(int64.AsSpan(8), (1L << 40) + 1); // rounds: float32 has 24 bits of mantissa
        Assert.Equal([-9.223372E18f, 1099511627776f], NpyArray.Create(TensorDataType.Int64, new TensorShape(2), int64).ToFloat32());
    }

    [Fact]
    public void CreateRefusesMismatchedLengthsAndBFloat16()
    {
        Assert.Throws<ArgumentException>(() => NpyArray.Create(TensorDataType.Int32, new TensorShape(2), new byte[7]));
        Assert.Throws<ArgumentException>(() => NpyArray.FromFloat32([1f, 2f], new TensorShape(3)));
        var error = Assert.Throws<ArgumentException>(() => NpyArray.Create(TensorDataType.BFloat16, new TensorShape(1), new byte[2]));
        Assert.Contains("NumPy", error.Message);
    }

    [Fact]
    public void CreateCopiesTheCallersBytes()
    {
        byte[] data = [1, 2, 3];
        NpyArray array = NpyArray.Create(TensorDataType.UInt8, new TensorShape(3), data);
        data[0] = 99;
        Assert.Equal(1, array.Data.Span[0]);
    }

    [Fact]
    public void MissingFileIsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => NpyFile.Read(Path.Combine(_folder, "absent.npy")));

    [Fact]
    public void WriteReplacesAnExistingFileAndLeavesNoTemporaryFiles()
    {
        string path = Path.Combine(_folder, "x.npy");
        NpyFile.WriteFloat32(path, [1f, 2f, 3f], new TensorShape(3));
        NpyFile.WriteFloat32(path, [4f], new TensorShape(1));

        Assert.Equal([4f], NpyFile.ReadFloat32(path).Values);
        Assert.Equal(["x.npy"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void FailedWriteLeavesTheTargetAndNoTemporaryFile()
    {
        // The target is a folder, so the final move fails after the temporary file was written.
        string target = Path.Combine(_folder, "taken.npy");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "keep");

        Assert.ThrowsAny<IOException>(() => NpyFile.WriteFloat32(target, [1f], new TensorShape(1)));

        Assert.True(File.Exists(Path.Combine(target, "keep.txt")));
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void StreamReadLeavesTheNextArrayInPlace()
    {
        var stream = new MemoryStream();
        NpyFile.Write(stream, NpyArray.FromFloat32([1f, 2f], new TensorShape(2)));
        NpyFile.Write(stream, NpyArray.Create(TensorDataType.Int8, new TensorShape(1, 1), [0xfe]));
        stream.Position = 0;

        Assert.Equal([1f, 2f], NpyFile.Read(stream).ToFloat32());
        NpyArray second = NpyFile.Read(stream);
        Assert.Equal(new TensorShape(1, 1), second.Shape);
        Assert.Equal([-2f], second.ToFloat32());
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void PathReadRefusesTrailingBytes()
    {
        string path = Path.Combine(_folder, "t.npy");
        byte[] file = NpyTestBytes.WriteBytes(NpyArray.FromFloat32([1f, 2f], new TensorShape(2)));
        File.WriteAllBytes(path, [.. file, 0, 0, 0, 0]);

        var error = Assert.Throws<FrameFormatException>(() => NpyFile.Read(path));
        Assert.Equal(FrameError.TrailingBytes, error.Error);
        Assert.Contains("4 bytes follow the array data", error.Message);
    }
}
