using System.Buffers;
using System.Globalization;

namespace Cleave.Codecs;

/// <summary>
/// <c>resilient:planes=K,rows=R[,conceal=zero|mean|interp][,layout=2[,prior=auto|none]]/INNER</c>: frames of the <c>INNER</c> codec in the resilient
/// layout (<see cref="ResilientFrame"/>): the header twice, each copy checked, and the payload in K x R groups (K runs of
/// planes, e.g. channels, times R runs of rows), each coded by its own instance of the inner codec and checked on its
/// own, so a damaged group is concealed and the rest decodes. Asking for more groups than the tensor has planes or rows
/// uses as many as it has. Encoding goes through <see cref="FeatureFrame.Write"/> like every codec's.
/// </summary>
public sealed class ResilientCodec : FeatureCodec
{
    public const string Name = "resilient";

    private ResilientCodec(FeatureCodec inner, int planeGroups, int rowBlocks, ConcealmentMode conceal, int layout, bool sendPrior)
    {
        Inner = inner;
        PlaneGroups = planeGroups;
        RowBlocks = rowBlocks;
        Conceal = conceal;
        Layout = layout;
        SendPrior = sendPrior;
        string compact = layout == 1 ? "" : sendPrior ? ",layout=2" : ",layout=2,prior=none";
        Spec = string.Create(CultureInfo.InvariantCulture, $"{Name}:planes={planeGroups},rows={rowBlocks},conceal={ConcealName(conceal)}{compact}/{inner.Spec}");
    }

    public FeatureCodec Inner { get; }
    public int PlaneGroups { get; }
    public int RowBlocks { get; }
    public ConcealmentMode Conceal { get; }

    /// <summary>1 (each group its own inner payload), or 2 (<c>layout=2</c>: groups share the grid and a context-model prior, <see cref="CompactResilientFrame"/>).</summary>
    public int Layout { get; }

    /// <summary>Layout 2: whether the encoder may send a context-model prior (<c>prior=auto</c>, the default) or starts every group flat (<c>prior=none</c>).</summary>
    public bool SendPrior { get; }

    public override CodecId Id => Inner.Id;
    public override string Spec { get; }
    public override ReadOnlySpan<byte> ParameterBytes => Inner.ParameterBytes;
    public override bool IsLossless => Inner.IsLossless;

    /// <summary>True when <paramref name="spec"/> names this wrapper (so that <see cref="FeatureCodecs.Create"/> hands it here).</summary>
    public static bool IsResilientSpec(string spec) =>
        spec.AsSpan().TrimStart().StartsWith(Name, StringComparison.OrdinalIgnoreCase) &&
        (spec.TrimStart().Length == Name.Length || spec.TrimStart()[Name.Length] is ':' or '/');

    public static ResilientCodec FromSpec(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int slash = spec.IndexOf('/');
        if (slash < 0)
            throw new ArgumentException($"codec spec '{spec}': a resilient codec names the codec it wraps after a '/', e.g. resilient:planes=1,rows=14/rans-ifc:bits=4");
        var outer = CodecSpec.Parse(spec[..slash]);
        string innerSpec = spec[(slash + 1)..];
        if (IsResilientSpec(innerSpec)) throw new ArgumentException($"codec spec '{spec}': a resilient codec cannot wrap another");
        var inner = FeatureCodecs.Create(innerSpec);
        int planes = outer.GetInt("planes", 1, 1, ResilientHeader.MaxGroups);
        int rows = outer.GetInt("rows", 14, 1, ResilientHeader.MaxGroups);
        if (planes * rows > ResilientHeader.MaxGroups)
            throw new ArgumentException($"codec spec '{spec}': {planes} x {rows} groups exceed {ResilientHeader.MaxGroups}");
        var conceal = outer.GetChoice("conceal", "interp", "zero", "mean", "interp") switch
        {
            "zero" => ConcealmentMode.Zero,
            "mean" => ConcealmentMode.Mean,
            _ => ConcealmentMode.Interpolate,
        };
        int layout = outer.GetInt("layout", 1, 1, CompactResilientHeader.Version);
        bool sendPrior = outer.GetChoice("prior", "auto", "auto", "none") == "auto";
        outer.EnsureAllKeysUsed();
        if (layout == 1 && !sendPrior) throw new ArgumentException($"codec spec '{spec}': prior= needs layout=2");
        if (layout == CompactResilientHeader.Version && CompactResilientFrame.Unsupported(inner) is { } problem)
            throw new ArgumentException($"codec spec '{spec}': {problem}");
        if (inner.ParameterBytes.Length > ResilientHeader.MaxParameterBytes)
            throw new ArgumentException($"codec spec '{spec}': the inner codec's {inner.ParameterBytes.Length} parameter bytes exceed {ResilientHeader.MaxParameterBytes}");
        return new ResilientCodec(inner, planes, rows, conceal, layout, sendPrior);
    }

    public static string ConcealName(ConcealmentMode mode) => mode switch
    {
        ConcealmentMode.Zero => "zero",
        ConcealmentMode.Mean => "mean",
        _ => "interp",
    };

    public override double? EntropyBoundBytes(ReadOnlySpan<float> values, TensorShape shape) => null;

    // A resilient codec writes whole frames (FeatureFrame.Write hands them to ResilientFrame); it has no plain payload.
    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload) =>
        throw new NotSupportedException("a resilient codec writes whole frames, not a plain frame's payload");

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination) =>
        throw new NotSupportedException("resilient frames are decoded by ResilientFrame");
}
