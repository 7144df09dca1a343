using System.Buffers.Binary;

namespace Cleave.Codecs.Analysis.Fuzzing;

/// <summary>
/// Turns valid frames (or any valid message bytes) into hostile ones: bit flips, byte overwrites with extreme values,
/// truncation, insertion, appended garbage, 32-bit fields set to boundary values, splices of two seeds, and — for
/// frames — edits of the header's rank, dimensions (huge claimed shapes included), parameter and payload length fields.
/// Half of the frame mutations get a fresh checksum (<see cref="Reseal"/>), so they reach the codec's own parsing
/// instead of stopping at the CRC.
/// </summary>
public sealed class FrameMutator(IReadOnlyList<byte[]> seeds)
{
    /// <summary>Dimensions worth claiming: zero, one, powers of two and their neighbours, the 2^23 + 1 rows of issue 13's probe, the maximum.</summary>
    private static readonly uint[] BoundaryDimensions = [0, 1, 2, 7, 255, 256, 65_535, 65_536, 1 << 20, 8_388_609, 1 << 24, int.MaxValue, 0x8000_0000, uint.MaxValue];

    public IReadOnlyList<byte[]> Seeds { get; } = seeds.Count > 0 ? seeds : throw new ArgumentException("at least one seed is needed", nameof(seeds));

    /// <summary>A mutated copy of a random seed; frame-aware edits when <paramref name="frames"/> is true.</summary>
    public byte[] Next(Random random, bool frames = true)
    {
        byte[] seed = Seeds[random.Next(Seeds.Count)];
        byte[] mutated = Mutate(seed, random, frames ? this : null);
        if (frames && mutated.Length >= 4 && random.Next(2) == 0) Reseal(mutated);
        return mutated;
    }

    /// <summary>One to three random edits of <paramref name="seed"/> (never changed; a new array is returned).</summary>
    public static byte[] Mutate(byte[] seed, Random random, FrameMutator? frameAware = null)
    {
        ArgumentNullException.ThrowIfNull(seed);
        ArgumentNullException.ThrowIfNull(random);
        var bytes = new List<byte>(seed);
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits; e++)
        {
            int kind = random.Next(frameAware is null ? 7 : 10);
            switch (kind)
            {
                case 0 when bytes.Count > 0: // flip one bit
                    bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0: // overwrite a byte, often with an extreme value
                    bytes[random.Next(bytes.Count)] = random.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)random.Next(256) };
                    break;
                case 2 when bytes.Count > 0: // truncate
                    int keep = random.Next(bytes.Count);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                    break;
                case 3: // insert a byte
                    bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(256));
                    break;
                case 4: // append garbage
                    for (int k = random.Next(1, 8); k > 0; k--) bytes.Add((byte)random.Next(256));
                    break;
                case 5: // overwrite a 32-bit little-endian field with a boundary value
                    if (bytes.Count < 4) break;
                    WriteUInt32(bytes, random.Next(bytes.Count - 3), random.Next(4) switch { 0 => 0, 1 => uint.MaxValue, 2 => 0x80000000, _ => (uint)random.Next() });
                    break;
                case 6 when frameAware is not null: // splice: a prefix of this one, a suffix of another seed
                    byte[] other = frameAware.Seeds[random.Next(frameAware.Seeds.Count)];
                    int cut = random.Next(bytes.Count + 1), from = random.Next(other.Length + 1);
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    bytes.AddRange(other.AsSpan(from).ToArray());
                    break;
                case 7 when bytes.Count >= 8: // claim another shape: a dimension set to a boundary or huge value
                    int rank = Math.Min(bytes[7], (bytes.Count - 8) / 4);
                    if (rank == 0) break;
                    WriteUInt32(bytes, 8 + 4 * random.Next(rank), BoundaryDimensions[random.Next(BoundaryDimensions.Length)]);
                    break;
                case 8 when bytes.Count >= 8: // another rank, so the dimensions and everything after shift
                    bytes[7] = (byte)random.Next(10);
                    break;
                case 9 when bytes.Count >= 8: // the parameter or payload length field (found from the seed's own layout)
                    int at = 8 + 4 * Math.Min((int)bytes[7], 8);
                    if (at + 2 > bytes.Count) break;
                    if (random.Next(2) == 0) { bytes[at] = (byte)random.Next(256); bytes[at + 1] = (byte)random.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)random.Next(256) }; break; }
                    int payloadAt = at + 2 + (bytes[at] | bytes[at + 1] << 8);
                    if (payloadAt + 4 <= bytes.Count) WriteUInt32(bytes, payloadAt, random.Next(3) switch { 0 => 0, 1 => uint.MaxValue, _ => (uint)random.Next(bytes.Count * 2) });
                    break;
            }
        }
        return bytes.ToArray();
    }

    /// <summary>Rewrites a frame's trailing CRC-32C so a deliberately broken field reaches the check meant for it.</summary>
    public static void Reseal(byte[] frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Length < 4) return;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(frame.Length - 4), Crc32C.Compute(frame.AsSpan(0, frame.Length - 4)));
    }

    private static void WriteUInt32(List<byte> bytes, int at, uint value)
    {
        for (int k = 0; k < 4; k++) bytes[at + k] = (byte)(value >> (8 * k));
    }
}
