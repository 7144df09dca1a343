using System.Buffers.Binary;
using System.Text;

namespace Cleave.Models.Importers.TfLite;

/// <summary>
/// One table of a FlatBuffers buffer, read through its vtable with every offset bounds-checked.
/// Fields are addressed by their id (declaration order in the schema; a union takes two ids: type, then value).
/// </summary>
internal readonly struct FlatBufferTable
{
    private readonly byte[] _buffer;
    private readonly int _position;
    private readonly int _vtable;
    private readonly int _vtableSize;

    private FlatBufferTable(byte[] buffer, int position)
    {
        _buffer = buffer;
        _position = position;
        int soffset = ReadInt32(buffer, position);
        long vtable = (long)position - soffset;
        if (vtable < 0 || vtable + 4 > buffer.Length)
            throw new TfLiteFormatException($"table at {position} points to a vtable outside the file");
        _vtable = (int)vtable;
        _vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(_vtable));
        if (_vtableSize < 4 || (_vtableSize & 1) != 0 || _vtable + _vtableSize > buffer.Length)
            throw new TfLiteFormatException($"vtable at {_vtable} has a bad size {_vtableSize}");
    }

    /// <summary>The root table; checks the 4-byte file identifier when one is given.</summary>
    public static FlatBufferTable Root(byte[] buffer, string? fileIdentifier)
    {
        if (buffer.Length < 8) throw new TfLiteFormatException($"file is {buffer.Length} bytes, too short for a FlatBuffer");
        if (fileIdentifier is not null && Encoding.ASCII.GetString(buffer, 4, 4) != fileIdentifier)
            throw new TfLiteFormatException($"file identifier is not '{fileIdentifier}': not a TFLite model");
        return new FlatBufferTable(buffer, FollowOffset(buffer, 0));
    }

    public bool Has(int fieldId) => FieldOffset(fieldId) != 0;

    public byte GetByte(int fieldId, byte fallback = 0)
    {
        int at = FieldPosition(fieldId, 1);
        return at < 0 ? fallback : _buffer[at];
    }

    public sbyte GetSByte(int fieldId, sbyte fallback = 0) => (sbyte)GetByte(fieldId, (byte)fallback);

    public bool GetBool(int fieldId, bool fallback = false) => GetByte(fieldId, fallback ? (byte)1 : (byte)0) != 0;

    public int GetInt32(int fieldId, int fallback = 0)
    {
        int at = FieldPosition(fieldId, 4);
        return at < 0 ? fallback : ReadInt32(_buffer, at);
    }

    public uint GetUInt32(int fieldId, uint fallback = 0) => (uint)GetInt32(fieldId, (int)fallback);

    public float GetFloat(int fieldId, float fallback = 0f)
    {
        int at = FieldPosition(fieldId, 4);
        return at < 0 ? fallback : BinaryPrimitives.ReadSingleLittleEndian(_buffer.AsSpan(at));
    }

    public FlatBufferTable? GetTable(int fieldId)
    {
        int at = FieldPosition(fieldId, 4);
        return at < 0 ? null : new FlatBufferTable(_buffer, FollowOffset(_buffer, at));
    }

    public string? GetString(int fieldId)
    {
        var bytes = GetVectorBytes(fieldId, 1, out int count);
        return bytes is null ? null : Encoding.UTF8.GetString(_buffer, bytes.Value, count);
    }

    /// <summary>A byte vector as a view of the file, not a copy (weights can be megabytes).</summary>
    public ReadOnlyMemory<byte> GetBytes(int fieldId)
    {
        var start = GetVectorBytes(fieldId, 1, out int count);
        return start is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(start.Value, count);
    }

    public int[] GetInt32Vector(int fieldId)
    {
        var start = GetVectorBytes(fieldId, 4, out int count);
        if (start is null) return [];
        var values = new int[count];
        for (int i = 0; i < count; i++) values[i] = ReadInt32(_buffer, start.Value + 4 * i);
        return values;
    }

    public long[] GetInt64Vector(int fieldId)
    {
        var start = GetVectorBytes(fieldId, 8, out int count);
        if (start is null) return [];
        var values = new long[count];
        for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(_buffer.AsSpan(start.Value + 8 * i));
        return values;
    }

    public float[] GetFloatVector(int fieldId)
    {
        var start = GetVectorBytes(fieldId, 4, out int count);
        if (start is null) return [];
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(_buffer.AsSpan(start.Value + 4 * i));
        return values;
    }

    public FlatBufferTable[] GetTableVector(int fieldId)
    {
        var start = GetVectorBytes(fieldId, 4, out int count);
        if (start is null) return [];
        var tables = new FlatBufferTable[count];
        for (int i = 0; i < count; i++) tables[i] = new FlatBufferTable(_buffer, FollowOffset(_buffer, start.Value + 4 * i));
        return tables;
    }

    private int FieldOffset(int fieldId)
    {
        if (fieldId < 0) throw new ArgumentOutOfRangeException(nameof(fieldId));
        int entry = 4 + 2 * fieldId;
        if (entry + 2 > _vtableSize) return 0; // field added to the schema after this file was written
        return BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_vtable + entry));
    }

    /// <summary>Absolute position of an inline field of <paramref name="size"/> bytes, or -1 when absent.</summary>
    private int FieldPosition(int fieldId, int size)
    {
        int offset = FieldOffset(fieldId);
        if (offset == 0) return -1;
        long at = (long)_position + offset;
        if (at + size > _buffer.Length)
            throw new TfLiteFormatException($"field {fieldId} of the table at {_position} lies outside the file");
        return (int)at;
    }

    /// <summary>Start of a vector's elements and their count, or null when the field is absent.</summary>
    private int? GetVectorBytes(int fieldId, int elementSize, out int count)
    {
        count = 0;
        int at = FieldPosition(fieldId, 4);
        if (at < 0) return null;
        int vector = FollowOffset(_buffer, at);
        if (vector + 4L > _buffer.Length) throw new TfLiteFormatException($"vector at {vector} lies outside the file");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(vector));
        long end = vector + 4L + (long)length * elementSize;
        if (end > _buffer.Length)
            throw new TfLiteFormatException($"vector at {vector} of {length} elements runs past the end of the file");
        count = (int)length;
        return vector + 4;
    }

    private static int FollowOffset(byte[] buffer, int at)
    {
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(at, 4));
        long target = (long)at + offset;
        if (target + 4 > buffer.Length) throw new TfLiteFormatException($"offset at {at} points outside the file");
        return (int)target;
    }

    private static int ReadInt32(byte[] buffer, int at)
    {
        if (at < 0 || at + 4L > buffer.Length) throw new TfLiteFormatException($"read at {at} lies outside the file");
        return BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(at));
    }
}
