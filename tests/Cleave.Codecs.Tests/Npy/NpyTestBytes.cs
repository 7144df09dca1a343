using System.Buffers.Binary;
using System.Text;
using Cleave.Codecs.Npy;

namespace Cleave.Codecs.Tests.Npy;

/// <summary>Builds .npy files by hand from the format description, independently of <see cref="NpyFile"/>'s writer.</summary>
internal static class NpyTestBytes
{
    public static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Magic, version, header length, the dict padded with spaces to <paramref name="alignment"/> and '\n', then data.</summary>
    public static byte[] Build(string dict, ReadOnlySpan<byte> data, byte major = 1, int alignment = 64, Encoding? encoding = null)
    {
        encoding ??= Encoding.Latin1;
        byte[] dictBytes = encoding.GetBytes(dict);
        int lengthSize = major == 1 ? 2 : 4;
        int prefix = 6 + 2 + lengthSize;
        int padding = 0;
        while ((prefix + dictBytes.Length + padding + 1) % alignment != 0) padding++;
        int headerLength = dictBytes.Length + padding + 1;

        var bytes = new List<byte>(Magic) { major, 0 };
        var length = new byte[lengthSize];
        if (lengthSize == 2) BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)headerLength);
        else BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)headerLength);
        bytes.AddRange(length);
        bytes.AddRange(dictBytes);
        bytes.AddRange(Enumerable.Repeat((byte)' ', padding));
        bytes.Add((byte)'\n');
        bytes.AddRange(data.ToArray());
        return [.. bytes];
    }

    public static byte[] Float32Data(params float[] values)
    {
        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), values[i]);
        return data;
    }

    public static NpyArray ReadBytes(byte[] file, DecodeLimits? limits = null) => NpyFile.Read(new MemoryStream(file), limits);

    public static byte[] WriteBytes(NpyArray array)
    {
        var stream = new MemoryStream();
        NpyFile.Write(stream, array);
        return stream.ToArray();
    }

    /// <summary>Deterministic element bytes for a type; floats stay finite so values compare with ==.</summary>
    public static byte[] SampleData(TensorDataType type, int count, int seed)
    {
        var random = new Random(seed);
        var data = new byte[count * type.SizeInBytes()];
        for (int i = 0; i < count; i++)
        {
            Span<byte> slot = data.AsSpan(i * type.SizeInBytes(), type.SizeInBytes());
            switch (type)
            {
                case TensorDataType.Float32: BinaryPrimitives.WriteSingleLittleEndian(slot, (float)(random.NextDouble() * 200 - 100)); break;
                case TensorDataType.Float16: BinaryPrimitives.WriteHalfLittleEndian(slot, (Half)(random.NextDouble() * 200 - 100)); break;
                default: random.NextBytes(slot); break;
            }
        }
        return data;
    }
}
