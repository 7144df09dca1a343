using Cleave.Codecs;
using Cleave.Runtime.Links;
using Cleave.Training.Distillation;

namespace Cleave.Training.Resilience;

/// <summary>
/// What the server's decoder sees after a bit-error channel: every cached cut tensor coded as a resilient frame, a copy
/// of the frame damaged by a seeded <see cref="BitErrorChannel"/>, and decoded with concealment by the path the server
/// uses. A copy whose two header copies were both destroyed (the server refuses it) is left out.
/// </summary>
public sealed record DamagedFeatures(float[] Features, int[] Source, int Refused, long ConcealedGroups, long Groups)
{
    public int Count => Source.Length;

    /// <param name="copies">damaged copies per sample; copy j of sample i crosses channel (i + j) mod channels</param>
    public static DamagedFeatures Build(CutFeatureCache cache, ResilientCodec codec, IReadOnlyList<BitErrorModel> channels, int copies, int seed)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count == 0) throw new ArgumentException("no channel to damage frames with");
        ArgumentOutOfRangeException.ThrowIfLessThan(copies, 1);
        var damage = channels.Select((c, i) => new BitErrorChannel(c, seed + i)).ToList();
        int n = checked((int)cache.SampleElements);
        var shape = new TensorShape([1, .. cache.SampleShape.Select(d => checked((int)d))]);
        var features = new List<float[]>(cache.Count * copies);
        var source = new List<int>(cache.Count * copies);
        int refused = 0;
        long concealed = 0, groups = 0;
        for (int i = 0; i < cache.Count; i++)
        {
            byte[] frame = codec.Encode(cache.Features.AsSpan(i * n, n), shape);
            for (int j = 0; j < copies; j++)
            {
                byte[] copy = (byte[])frame.Clone();
                damage[(i + j) % damage.Count].Damage(copy);
                try
                {
                    features.Add(ResilientFrame.Decode(copy, out var result));
                    source.Add(i);
                    concealed += result.ConcealedGroups.Count;
                    groups += result.Groups;
                }
                catch (FrameFormatException) { refused++; }
            }
        }
        return new DamagedFeatures([.. features.SelectMany(f => f)], [.. source], refused, concealed, groups);
    }
}
