using Cleave.Codecs.Entropy;

namespace Cleave.Codecs.Tests.Entropy;

/// <summary>
/// Mutated and truncated blocks must end in a FrameFormatException or in symbols inside the recorded alphabet:
/// never another exception, a hang or an out-of-range access.
/// </summary>
public sealed class RansCorruptionTests
{
    private static List<(byte[] Block, int Count, bool Wide)> Seeds()
    {
        var random = new Random(42);
        var seeds = new List<(byte[], int, bool)>();
        foreach (int count in new[] { 0, 1, 2, 17, 300, 4096, 9000, 40_000, 70_000, 300_000 })
        foreach (int scaleBits in new[] { 10, 12, 15 })
        {
            byte[] bytes = RansTestData.QuantizedReluLike(count, count % 2 == 0 ? 8 : 4, seed: count + scaleBits);
            seeds.Add((RansTestData.Encode(bytes, 256, scaleBits), count, false));
            ushort[] wide = RansTestData.Symbols(random, count, 4096, RansTestData.Shape.Geometric);
            seeds.Add((RansTestData.Encode(wide, 4096, scaleBits), count, true));
        }
        return seeds;
    }

    [Fact]
    public void MutatedBlocksFailOnlyWithFrameFormatException()
    {
        var random = new Random(7);
        var seeds = Seeds();
        int failures = 0, cases = 0;
        for (int round = 0; round < 40_000; round++)
        {
            var (original, count, wide) = seeds[random.Next(seeds.Count)];
            // Big blocks are costly to decode; most cases use the small ones where the header and table dominate.
            if (count > 9000 && random.Next(count > 100_000 ? 32 : 8) != 0) continue;
            byte[] block = Mutate(original, random);
            int decodeCount = random.Next(10) == 0 ? random.Next(count + 2) : count;
            cases++;
            try
            {
                if (wide)
                {
                    var symbols = new ushort[decodeCount];
                    RansCoder.Decode(block, symbols);
                    int alphabet = RansCoder.ReadBlockInfo(block).AlphabetSize;
                    foreach (ushort s in symbols) Assert.True(s < alphabet, $"symbol {s} outside alphabet {alphabet}");
                }
                else
                {
                    var symbols = new byte[decodeCount];
                    RansCoder.Decode(block, symbols);
                    int alphabet = RansCoder.ReadBlockInfo(block).AlphabetSize;
                    foreach (byte s in symbols) Assert.True(s < alphabet, $"symbol {s} outside alphabet {alphabet}");
                }
            }
            catch (FrameFormatException e)
            {
                Assert.True(e.Error is FrameError.CorruptPayload or FrameError.Truncated, e.Error.ToString());
                failures++;
            }
        }
        Assert.True(cases > 25_000);
        // Most mutations must be detected (the final-state check catches stream damage); some are harmless, e.g. in padding.
        Assert.True(failures > cases / 2, $"only {failures} of {cases} mutations were detected");
    }

    [Fact]
    public void EveryTruncationIsDetected()
    {
        foreach (var (original, count, wide) in Seeds())
        {
            if (count > 9000) continue;
            for (int length = 0; length < original.Length; length++)
            {
                var error = Assert.Throws<FrameFormatException>(() =>
                {
                    if (wide) RansCoder.Decode(original.AsSpan(0, length), new ushort[count]);
                    else RansCoder.Decode(original.AsSpan(0, length), new byte[count]);
                });
                Assert.True(error.Error is FrameError.Truncated or FrameError.CorruptPayload);
            }
        }
    }

    [Fact]
    public void DecodingMoreSymbolsThanEncodedIsDetected()
    {
        byte[] symbols = RansTestData.QuantizedReluLike(50_000, 8);
        byte[] encoded = RansTestData.Encode(symbols, 256);
        Assert.Throws<FrameFormatException>(() => RansCoder.Decode(encoded, new byte[50_016]));
        Assert.Throws<FrameFormatException>(() => RansCoder.Decode(encoded, new byte[49_984]));
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        byte[] block = (byte[])original.Clone();
        switch (random.Next(6))
        {
            case 0 when block.Length > 0: // flip one bit, mostly near the front where the header and table live
                int at = random.Next(2) == 0 ? random.Next(Math.Min(block.Length, 48)) : random.Next(block.Length);
                block[at] ^= (byte)(1 << random.Next(8));
                return block;
            case 1 when block.Length > 0:
                block[random.Next(block.Length)] = (byte)random.Next(256);
                return block;
            case 2: // truncate
                return block.AsSpan(0, random.Next(block.Length + 1)).ToArray();
            case 3 when block.Length > 0: // several random bytes
                for (int i = 0; i < 4; i++) block[random.Next(block.Length)] = (byte)random.Next(256);
                return block;
            case 4: // garbage of a plausible length with a valid-looking header byte
                var garbage = new byte[random.Next(64)];
                random.NextBytes(garbage);
                if (garbage.Length > 0) garbage[0] &= 0x3F;
                return garbage;
            default: // insert or delete one byte
                var list = block.ToList();
                if (list.Count > 0 && random.Next(2) == 0) list.RemoveAt(random.Next(list.Count));
                else list.Insert(random.Next(list.Count + 1), (byte)random.Next(256));
                return list.ToArray();
        }
    }
}
