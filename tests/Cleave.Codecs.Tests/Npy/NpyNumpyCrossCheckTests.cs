using Cleave.Codecs.Npy;

namespace Cleave.Codecs.Tests.Npy;

/// <summary>Files this library writes load in NumPy with the same values, and files NumPy writes load here.</summary>
public sealed class NpyNumpyCrossCheckTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-npy-numpy-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private const string Script = """
        import sys
        import numpy as np
        d = sys.argv[1]
        a = np.load(d + '/from_cleave_f4.npy')
        assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)
        assert (a == np.array([[0, 1.5, -2], [3, 4, 5]], dtype=np.float32)).all(), a
        b = np.load(d + '/from_cleave_i8.npy')
        assert b.dtype == np.int64 and b.shape == () and int(b) == -7, b
        c = np.load(d + '/from_cleave_empty.npy')
        assert c.dtype == np.uint8 and c.shape == (3, 0), (c.dtype, c.shape)
        h = np.load(d + '/from_cleave_f2.npy')
        assert h.dtype == np.float16 and h[0] == 0.5 and np.isinf(h[1]) and np.isnan(h[2]), h
        np.save(d + '/from_numpy_f8.npy', np.arange(12, dtype='<f8').reshape(3, 4) / 4)
        np.save(d + '/from_numpy_f2.npy', np.array([1, np.inf, -np.inf, np.nan, 65504], dtype='<f2'))
        np.save(d + '/from_numpy_be.npy', np.array([[1, -2], [3, 4]], dtype='>i4'))
        np.save(d + '/from_numpy_i1.npy', np.array([-128, 127], dtype=np.int8).reshape(2, 1, 1, 1))
        np.save(d + '/from_numpy_scalar.npy', np.uint8(200))
        np.save(d + '/from_numpy_fortran.npy', np.arange(6, dtype=np.float32).reshape(2, 3).T)
        with open(d + '/from_numpy_v2.npy', 'wb') as f:
            np.lib.format.write_array(f, np.full((2, 2), 3, dtype=np.float32), version=(2, 0))
        print('numpy ok')
        """;

    [NumpyFact]
    public void NumpyReadsOurFilesAndWeReadNumpys()
    {
        NpyFile.WriteFloat32(Path.Combine(_folder, "from_cleave_f4.npy"), [0f, 1.5f, -2f, 3f, 4f, 5f], new TensorShape(2, 3));
        NpyFile.Write(Path.Combine(_folder, "from_cleave_i8.npy"),
            NpyArray.Create(TensorDataType.Int64, new TensorShape(), BitConverter.GetBytes(-7L)));
        NpyFile.Write(Path.Combine(_folder, "from_cleave_empty.npy"), NpyArray.Create(TensorDataType.UInt8, new TensorShape(3, 0), []));
        byte[] halves = [.. BitConverter.GetBytes((Half)0.5), .. BitConverter.GetBytes(Half.PositiveInfinity), .. BitConverter.GetBytes(Half.NaN)];
        NpyFile.Write(Path.Combine(_folder, "from_cleave_f2.npy"), NpyArray.Create(TensorDataType.Float16, new TensorShape(3), halves));

        (int exitCode, string output) = NumpyFactAttribute.RunPython("-c", Script, _folder);
        Assert.True(exitCode == 0, output);
        Assert.Contains("numpy ok", output);

        (float[] f8, TensorShape f8Shape) = NpyFile.ReadFloat32(Path.Combine(_folder, "from_numpy_f8.npy"));
        Assert.Equal(new TensorShape(3, 4), f8Shape);
        for (int i = 0; i < 12; i++) Assert.Equal(i / 4f, f8[i]);

        float[] f2 = NpyFile.ReadFloat32(Path.Combine(_folder, "from_numpy_f2.npy")).Values;
        Assert.Equal(1f, f2[0]);
        Assert.Equal(float.PositiveInfinity, f2[1]);
        Assert.Equal(float.NegativeInfinity, f2[2]);
        Assert.True(float.IsNaN(f2[3]));
        Assert.Equal(65504f, f2[4]);

        NpyArray bigEndian = NpyFile.Read(Path.Combine(_folder, "from_numpy_be.npy"));
        Assert.Equal(TensorDataType.Int32, bigEndian.DataType);
        Assert.Equal([1f, -2f, 3f, 4f], bigEndian.ToFloat32());

        NpyArray int8 = NpyFile.Read(Path.Combine(_folder, "from_numpy_i1.npy"));
        Assert.Equal(new TensorShape(2, 1, 1, 1), int8.Shape);
        Assert.Equal([-128f, 127f], int8.ToFloat32());

        NpyArray scalar = NpyFile.Read(Path.Combine(_folder, "from_numpy_scalar.npy"));
        Assert.Equal(0, scalar.Shape.Rank);
        Assert.Equal([200f], scalar.ToFloat32());

        Assert.Equal([3f, 3f, 3f, 3f], NpyFile.ReadFloat32(Path.Combine(_folder, "from_numpy_v2.npy")).Values);

        var fortran = Assert.Throws<FrameFormatException>(() => NpyFile.Read(Path.Combine(_folder, "from_numpy_fortran.npy")));
        Assert.Contains("Fortran", fortran.Message);
    }
}
