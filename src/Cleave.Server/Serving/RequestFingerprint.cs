using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>
/// SHA-256 of everything in a request that changes its answer (the served mode, the payload, top_k, return_tensor, the tasks named):
/// two requests with equal fingerprints get equal answers, so replaying one's answer to the other is safe. A
/// cryptographic hash so that a client cannot craft a different payload with the fingerprint of a planted one.
/// </summary>
internal readonly record struct RequestFingerprint(UInt128 High, UInt128 Low)
{
    public static RequestFingerprint Of(string mode, InferRequest request)
    {
        ArgumentNullException.ThrowIfNull(mode);
        ArgumentNullException.ThrowIfNull(request);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> fields = stackalloc byte[17];
        BinaryPrimitives.WriteInt32LittleEndian(fields, Encoding.UTF8.GetByteCount(mode));
        BinaryPrimitives.WriteUInt32LittleEndian(fields[4..], request.TopK);
        fields[8] = request.ReturnTensor ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(fields[9..], request.Payload.Length);
        BinaryPrimitives.WriteInt32LittleEndian(fields[13..], request.Tasks.Count);
        hash.AppendData(fields);
        hash.AppendData(Encoding.UTF8.GetBytes(mode)); // length-prefixed above, so mode and payload cannot run into each other
        hash.AppendData(request.Payload.Span);
        // Tasks after the payload (whose length is in the fields above), each length-prefixed: no two lists hash alike.
        Span<byte> length = stackalloc byte[4];
        foreach (string task in request.Tasks)
        {
            byte[] name = Encoding.UTF8.GetBytes(task);
            BinaryPrimitives.WriteInt32LittleEndian(length, name.Length);
            hash.AppendData(length);
            hash.AppendData(name);
        }
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return new RequestFingerprint(BinaryPrimitives.ReadUInt128BigEndian(digest), BinaryPrimitives.ReadUInt128BigEndian(digest[16..]));
    }
}
