using System.Buffers.Binary;
using System.Text;

namespace Cleave.Models.Tests.TfLite;

/// <summary>A FlatBuffers value for the test writer: a table, a scalar, a string or a vector.</summary>
internal abstract record Fb;

internal sealed record FbTable(params (int Id, Fb Value)[] Fields) : Fb;

internal sealed record FbScalar(byte[] Bytes) : Fb
{
    public static FbScalar Byte(byte v) => new([v]);
    public static FbScalar Int(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); return new(b); }
    public static FbScalar Float(float v) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); return new(b); }
}

internal sealed record FbString(string Text) : Fb;

internal sealed record FbVector(byte[] Bytes, int ElementSize) : Fb
{
    public static FbVector Ints(params int[] v) => new(v.SelectMany(BitConverter.GetBytes).ToArray(), 4);
    public static FbVector Floats(params float[] v) => new(v.SelectMany(BitConverter.GetBytes).ToArray(), 4);
    public static FbVector Longs(params long[] v) => new(v.SelectMany(BitConverter.GetBytes).ToArray(), 8);
    public static FbVector Raw(byte[] v) => new(v, 1);
}

internal sealed record FbTableVector(params FbTable[] Tables) : Fb;

/// <summary>
/// A minimal front-to-back FlatBuffers writer for building test models: each vtable precedes its table and
/// children follow their parent, so every offset is forward (as the format requires for uoffsets).
/// </summary>
internal sealed class FlatBufferWriter
{
    private readonly List<byte> _out = [];

    public static byte[] Build(FbTable root, string fileIdentifier)
    {
        var w = new FlatBufferWriter();
        w._out.AddRange(new byte[4]);
        w._out.AddRange(Encoding.ASCII.GetBytes(fileIdentifier));
        int rootPos = w.WriteTable(root);
        w.PatchOffset(0, rootPos);
        return [.. w._out];
    }

    private void Align(int alignment, int extra = 0)
    {
        while ((_out.Count + extra) % alignment != 0) _out.Add(0);
    }

    private void PatchOffset(int at, int target)
    {
        var b = BitConverter.GetBytes((uint)(target - at));
        for (int i = 0; i < 4; i++) _out[at + i] = b[i];
    }

    private int WriteTable(FbTable table)
    {
        int maxId = table.Fields.Length == 0 ? -1 : table.Fields.Max(f => f.Id);
        int vtableSize = 4 + 2 * (maxId + 1);
        var fieldOffsets = new int[maxId + 1];
        int size = 4;
        foreach (var (id, value) in table.Fields)
        {
            int fieldSize = value is FbScalar s ? s.Bytes.Length : 4;
            while (size % fieldSize != 0) size++;
            fieldOffsets[id] = size;
            size += fieldSize;
        }
        Align(8, vtableSize);
        int vtablePos = _out.Count;
        _out.AddRange(BitConverter.GetBytes((ushort)vtableSize));
        _out.AddRange(BitConverter.GetBytes((ushort)size));
        foreach (int o in fieldOffsets) _out.AddRange(BitConverter.GetBytes((ushort)o));
        int tablePos = _out.Count;
        _out.AddRange(BitConverter.GetBytes(tablePos - vtablePos));
        _out.AddRange(new byte[size - 4]);
        foreach (var (id, value) in table.Fields)
            if (value is FbScalar s)
                for (int i = 0; i < s.Bytes.Length; i++) _out[tablePos + fieldOffsets[id] + i] = s.Bytes[i];
        foreach (var (id, value) in table.Fields)
        {
            if (value is FbScalar) continue;
            int at = tablePos + fieldOffsets[id];
            PatchOffset(at, WriteChild(value));
        }
        return tablePos;
    }

    private int WriteChild(Fb value)
    {
        switch (value)
        {
            case FbTable t: return WriteTable(t);
            case FbString s:
            {
                Align(4);
                int pos = _out.Count;
                var bytes = Encoding.UTF8.GetBytes(s.Text);
                _out.AddRange(BitConverter.GetBytes(bytes.Length));
                _out.AddRange(bytes);
                _out.Add(0);
                return pos;
            }
            case FbVector v:
            {
                Align(Math.Max(4, v.ElementSize), 4);
                int pos = _out.Count;
                _out.AddRange(BitConverter.GetBytes(v.Bytes.Length / v.ElementSize));
                _out.AddRange(v.Bytes);
                return pos;
            }
            case FbTableVector tv:
            {
                Align(4);
                int pos = _out.Count;
                _out.AddRange(BitConverter.GetBytes(tv.Tables.Length));
                _out.AddRange(new byte[4 * tv.Tables.Length]);
                for (int i = 0; i < tv.Tables.Length; i++) PatchOffset(pos + 4 + 4 * i, WriteTable(tv.Tables[i]));
                return pos;
            }
            default: throw new ArgumentException("unknown value");
        }
    }
}
