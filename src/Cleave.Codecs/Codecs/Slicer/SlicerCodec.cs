using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace Cleave.Codecs;

/// <summary>
/// <c>slicer:keep=R|count=N,asym=A,blocks=M,delta=D[,levels=pow2][,rows=ref][,ctx=2d]</c> or
/// <c>slicer:target=snr:S|bytes:B[,asym=A][,levels=pow2][,rows=ref][,ctx=2d]</c>:
/// SLICER-style feature coding (after Sung et al., "Why Should the Server Do It All?"): asymmetric top-K filtering,
/// magnitude splitting into M equal-cardinality blocks, adaptive level counts per block under a distortion budget
/// (checked exactly by an integer guard), survivor positions as a bitmap or gaps and values as block/level/sign
/// symbols, all rANS-coded. The target modes search keep, blocks and delta for each tensor. Design and measurements:
/// docs/codecs.md; payload: docs/format.md.
/// </summary>
public sealed class SlicerCodec : FeatureCodec
{
    public const int ParameterLength = 19;

    private readonly byte[] _parameters;

    public SlicerCodec(SlicerSettings settings, SlicerTarget target = default)
    {
        if (target.Kind != SlicerTargetKind.None)
            settings = new SlicerSettings(SlicerSettings.Default.KeepRatio, 0, settings.Asymmetry, SlicerSettings.Default.Blocks,
                SlicerSettings.Default.Delta, settings.PowerOfTwoLevels, settings.RowReferences, settings.SpatialContext);
        Settings = settings;
        Target = target;
        _parameters = new byte[ParameterLength];
        // Bit 2 (row references) is new: frames without it keep their exact bytes.
        _parameters[0] = (byte)((settings.KeepCount > 0 ? 1 : 0) | (settings.PowerOfTwoLevels ? 2 : 0) | (settings.RowReferences ? 4 : 0) | (settings.SpatialContext ? 8 : 0));
        _parameters[1] = (byte)settings.Blocks;
        if (settings.KeepCount > 0) BinaryPrimitives.WriteInt32LittleEndian(_parameters.AsSpan(2), settings.KeepCount);
        else BinaryPrimitives.WriteSingleLittleEndian(_parameters.AsSpan(2), settings.KeepRatio);
        BinaryPrimitives.WriteSingleLittleEndian(_parameters.AsSpan(6), settings.Asymmetry);
        BinaryPrimitives.WriteSingleLittleEndian(_parameters.AsSpan(10), settings.Delta);
        _parameters[14] = (byte)target.Kind;
        if (target.Kind == SlicerTargetKind.Snr) BinaryPrimitives.WriteSingleLittleEndian(_parameters.AsSpan(15), (float)target.Value);
        else if (target.Kind == SlicerTargetKind.Bytes) BinaryPrimitives.WriteUInt32LittleEndian(_parameters.AsSpan(15), (uint)target.Value);
    }

    public SlicerSettings Settings { get; }
    public SlicerTarget Target { get; }

    public override CodecId Id => CodecId.Slicer;
    public override ReadOnlySpan<byte> ParameterBytes => _parameters;
    public override bool IsLossless => false;

    public override string Spec
    {
        get
        {
            var s = Settings;
            string asym = "asym=" + F(s.Asymmetry);
            string levels = (s.PowerOfTwoLevels ? ",levels=pow2" : "") + (s.RowReferences ? ",rows=ref" : "") + (s.SpatialContext ? ",ctx=2d" : "");
            if (Target.Kind != SlicerTargetKind.None) return $"slicer:target={Target},{asym}{levels}";
            string keep = s.KeepCount > 0 ? $"count={s.KeepCount}" : "keep=" + F(s.KeepRatio);
            return $"slicer:{keep},{asym},blocks={s.Blocks},delta={F(s.Delta)}{levels}";
        }
    }

    private static string F(float value) => value.ToString(CultureInfo.InvariantCulture);

    internal static SlicerCodec FromSpec(CodecSpec spec)
    {
        var defaults = SlicerSettings.Default;
        string? targetText = spec.GetString("target");
        string? keepText = spec.GetString("keep"), countText = spec.GetString("count");
        string? blocksText = spec.GetString("blocks"), deltaText = spec.GetString("delta");
        float asym = GetFloat(spec, "asym", defaults.Asymmetry);
        bool pow2 = spec.GetChoice("levels", "any", "any", "pow2") == "pow2";
        bool rows = spec.GetChoice("rows", "plain", "plain", "ref") == "ref";
        bool context = spec.GetChoice("ctx", "none", "none", "2d") == "2d";
        if (targetText is not null)
        {
            if (keepText is not null || countText is not null || blocksText is not null || deltaText is not null)
                throw new ArgumentException("codec 'slicer': target= searches keep, blocks and delta itself; give only asym, levels, rows and ctx beside it");
            return new SlicerCodec(new SlicerSettings(1, 0, asym, defaults.Blocks, defaults.Delta, pow2, rows, context), SlicerTarget.Parse(targetText));
        }
        if (keepText is not null && countText is not null)
            throw new ArgumentException("codec 'slicer': give keep= (a ratio) or count= (an absolute number), not both");
        float keep = GetFloat(spec, "keep", defaults.KeepRatio);
        int count = spec.GetInt("count", 0, 1, int.MaxValue);
        int blocks = spec.GetInt("blocks", defaults.Blocks, 1, SlicerSettings.MaxBlocks);
        float delta = GetFloat(spec, "delta", defaults.Delta);
        try
        {
            return new SlicerCodec(new SlicerSettings(keep, count, asym, blocks, delta, pow2, rows, context));
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentException($"codec 'slicer': {e.Message}", e);
        }
    }

    private static float GetFloat(CodecSpec spec, string key, float fallback)
    {
        string? text = spec.GetString(key);
        if (text is null) return fallback;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
            throw new ArgumentException($"codec 'slicer': {key}={text} is not a finite number");
        return value;
    }

    internal static SlicerCodec FromParameters(ReadOnlySpan<byte> p)
    {
        if (p.Length != ParameterLength)
            throw new FrameFormatException(FrameError.BadParameters, $"slicer parameters are {ParameterLength} bytes, frame has {p.Length}");
        SlicerCodec codec;
        try
        {
            if ((p[0] & ~15) != 0 || p[14] > (byte)SlicerTargetKind.Bytes) throw new ArgumentException("reserved bits set");
            bool isCount = (p[0] & 1) != 0;
            var settings = new SlicerSettings(
                isCount ? 1 : BinaryPrimitives.ReadSingleLittleEndian(p[2..]), isCount ? BinaryPrimitives.ReadInt32LittleEndian(p[2..]) : 0,
                BinaryPrimitives.ReadSingleLittleEndian(p[6..]), p[1], BinaryPrimitives.ReadSingleLittleEndian(p[10..]), (p[0] & 2) != 0,
                (p[0] & 4) != 0, (p[0] & 8) != 0);
            if (isCount && settings.KeepCount < 1) throw new ArgumentException("count must be >= 1");
            var kind = (SlicerTargetKind)p[14];
            var target = kind switch
            {
                SlicerTargetKind.Snr => SlicerTarget.Parse("snr:" + BinaryPrimitives.ReadSingleLittleEndian(p[15..]).ToString("R", CultureInfo.InvariantCulture)),
                SlicerTargetKind.Bytes => SlicerTarget.Parse("bytes:" + BinaryPrimitives.ReadUInt32LittleEndian(p[15..]).ToString(CultureInfo.InvariantCulture)),
                _ => SlicerTarget.None,
            };
            codec = new SlicerCodec(settings, target);
        }
        catch (ArgumentException e)
        {
            throw new FrameFormatException(FrameError.BadParameters, $"invalid slicer parameters {Convert.ToHexString(p)}: {e.Message}");
        }
        // Only the canonical form is accepted, so a frame's parameters always match the spec they print as.
        if (!codec.ParameterBytes.SequenceEqual(p))
            throw new FrameFormatException(FrameError.BadParameters, $"slicer parameters {Convert.ToHexString(p)} are not in canonical form");
        return codec;
    }

    /// <summary>Encodes with the settings the codec would use for these values (searched in a target mode) and reports them.</summary>
    public SlicerEncodeResult EncodePayloadWithResult(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload) =>
        EncodeCore(values, shape, payload, measureError: true);

    private SlicerEncodeResult EncodeCore(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload, bool measureError)
    {
        int rowLength = RowReferences.RowLength(shape);
        var contextShape = Settings.SpatialContext ? shape : null;
        if (Target.Kind == SlicerTargetKind.None) return SlicerEncoder.Encode(values, Settings, payload, measureError, rowLength, contextShape);
        int overhead = FrameOverhead(shape);
        var found = SlicerTargetSearch.Search(values, Settings, Target, overhead, rowLength, contextShape);
        payload.Write(found.Payload);
        return found.Result;
    }

    /// <summary>Frame bytes around a payload: header, parameters, payload length and checksum.</summary>
    internal static int FrameOverhead(TensorShape shape) => 8 + 4 * shape.Rank + 2 + ParameterLength + 4 + FeatureFrame.ChecksumSize;

    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload) =>
        EncodeCore(values, shape, payload, measureError: false);

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination) =>
        SlicerDecoder.Decode(payload, destination, Settings.RowReferences ? RowReferences.RowLength(shape) : 0,
            Settings.SpatialContext ? shape : null);

    /// <summary>Only the context-coded layout has a floor (<see cref="SlicerDecoder.MinimumPayloadBytes"/>).</summary>
    protected internal override long MinimumPayloadBytes(ReadOnlySpan<byte> payload, TensorShape shape) =>
        SlicerDecoder.MinimumPayloadBytes(payload, shape.ElementCount, Settings.SpatialContext);

    protected internal override long DecodeScratchBytes(ReadOnlySpan<byte> payload, TensorShape shape) =>
        SlicerDecoder.ScratchBytes(payload, shape.ElementCount, Settings.RowReferences ? RowReferences.RowLength(shape) : 0);
}
