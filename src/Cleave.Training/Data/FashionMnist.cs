using System.Buffers.Binary;
using System.IO.Compression;

namespace Cleave.Training.Data;

/// <summary>
/// Fashion-MNIST (70,000 labelled 28x28 grey images, 10 classes) from the gzipped IDX files of Debian's
/// <c>dataset-fashion-mnist</c> package. Pixels are scaled to [0, 1] and standardised with the training set's mean
/// and deviation, so that a freshly initialised network starts in its comfortable range.
/// </summary>
public sealed class FashionMnist : IExampleSet
{
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";
    public const float Mean = 0.2860f, Deviation = 0.3530f;
    private const int Side = 28, Pixels = Side * Side;

    private readonly byte[] _images;
    private readonly byte[] _labels;

    private FashionMnist(byte[] images, byte[] labels)
    {
        _images = images;
        _labels = labels;
    }

    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>True when the package's files are present.</summary>
    public static bool IsInstalled(string folder = DefaultFolder) =>
        File.Exists(Path.Combine(folder, "train-images-idx3-ubyte.gz")) && File.Exists(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"));

    /// <summary>The 60,000 training images (<paramref name="test"/> false) or the 10,000 test images; the first <paramref name="limit"/> only when given.</summary>
    public static FashionMnist Load(bool test = false, int? limit = null, string folder = DefaultFolder)
    {
        string prefix = test ? "t10k" : "train";
        string images = Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), labels = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz");
        if (!File.Exists(images) || !File.Exists(labels))
            throw new FileNotFoundException($"Fashion-MNIST is not installed in {folder} (Debian: apt-get install dataset-fashion-mnist)", images);
        var imageBytes = ReadIdx(images, expectedMagic: 0x803, out int count, Pixels, limit);
        var labelBytes = ReadIdx(labels, expectedMagic: 0x801, out int labelCount, 1, limit);
        if (count != labelCount) throw new InvalidDataException($"{images} holds {count} images but {labels} {labelCount} labels");
        foreach (byte l in labelBytes)
            if (l >= 10) throw new InvalidDataException($"{labels} holds label {l}; Fashion-MNIST has 10 classes");
        return new FashionMnist(imageBytes, labelBytes);
    }

    public int Count => _labels.Length;
    public long[] ExampleShape => [1, Side, Side];
    public int ClassCount => 10;

    public void Fill(int index, Span<float> destination)
    {
        var pixels = _images.AsSpan(index * Pixels, Pixels);
        for (int i = 0; i < Pixels; i++) destination[i] = (pixels[i] / 255f - Mean) / Deviation;
    }

    public int Label(int index) => _labels[index];

    /// <summary>Reads an IDX file (big-endian header: magic, counts, then bytes); sizes are checked before allocating.</summary>
    private static byte[] ReadIdx(string path, int expectedMagic, out int count, int itemSize, int? limit)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        int dims = expectedMagic & 0xff;
        Span<byte> header = stackalloc byte[4 + 4 * dims];
        stream.ReadExactly(header);
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != expectedMagic) throw new InvalidDataException($"{path} is not an IDX file of the expected kind (magic 0x{magic:x})");
        count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        long itemBytes = 1;
        for (int d = 1; d < dims; d++) itemBytes *= BinaryPrimitives.ReadInt32BigEndian(header[(4 + 4 * d)..]);
        if (count < 0 || itemBytes != itemSize) throw new InvalidDataException($"{path}: unexpected IDX dimensions");
        if (limit is int l) count = Math.Min(count, Math.Max(0, l));
        var data = new byte[checked(count * itemSize)];
        stream.ReadExactly(data);
        return data;
    }
}
