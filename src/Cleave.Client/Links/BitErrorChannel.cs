namespace Cleave.Runtime.Links;

/// <summary>
/// Flips bits of messages as <see cref="BitErrorModel"/> says, from a seeded generator, so a run is repeatable: the same
/// seed and the same messages in the same order give the same flips. The burst model's state carries over from one
/// message to the next, as a radio channel's fading does. Thread-safe (draws are serialized).
/// </summary>
public sealed class BitErrorChannel
{
    private readonly Random _random;
    private readonly Lock _lock = new();
    private bool _bad;

    public BitErrorChannel(BitErrorModel model, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _random = new Random(seed);
    }

    public BitErrorModel Model { get; }

    /// <summary>Flips bits of <paramref name="bytes"/> in place and returns how many it flipped.</summary>
    public int Damage(Span<byte> bytes)
    {
        if (Model.IsNone || bytes.IsEmpty) return 0;
        long bits = 8L * bytes.Length;
        int flipped = 0;
        lock (_lock)
        {
            if (!Model.IsBursty)
            {
                // Gaps between independent flips are geometric: skip straight to the next one.
                for (long at = Geometric(Model.BitErrorRate); at < bits; at += 1 + Geometric(Model.BitErrorRate))
                {
                    Flip(bytes, at);
                    flipped++;
                }
                return flipped;
            }
            long position = 0;
            while (position < bits)
            {
                if (!_bad)
                {
                    // Good state: no errors until the next transition to bad (geometric gaps are memoryless, so a gap
                    // cut short by the end of a message is simply drawn again for the next one).
                    position += Geometric(Model.EnterBad);
                    if (position >= bits) break;
                    _bad = true;
                }
                long end = position + 1 + Geometric(Model.LeaveBad);
                for (long stop = Math.Min(bits, end); position < stop; position++)
                    if (_random.NextDouble() < BitErrorModel.BadStateErrorRate) { Flip(bytes, position); flipped++; }
                if (end <= bits) _bad = false; // else the burst runs on into the next message
            }
        }
        return flipped;
    }

    private static void Flip(Span<byte> bytes, long bit) => bytes[(int)(bit >> 3)] ^= (byte)(1 << (int)(bit & 7));

    /// <summary>Failures before the first success of a Bernoulli(<paramref name="p"/>) sequence (capped at 2^62).</summary>
    private long Geometric(double p)
    {
        if (p >= 1) return 0;
        if (p <= 0) return long.MaxValue / 2;
        double u = 1 - _random.NextDouble(); // (0, 1]
        double draw = Math.Floor(Math.Log(u) / Math.Log(1 - p));
        return draw >= 1L << 62 ? 1L << 62 : (long)draw;
    }
}
