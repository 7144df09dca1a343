using Cleave.Planning.Profiles;

namespace Cleave.Planning.Tests;

/// <summary>
/// Profiles with the figures measured on this machine (docs/planning.md): MobileNetV2's five cuts from its 64-image
/// profile (one ONNX Runtime thread, 2026-11-27, two codecs of five kept), and MobileNetV1 0.25 / 128 scaled from its
/// whole-model time and MACs (about 14x fewer than MobileNetV2), top-1 on the same 64 images.
/// </summary>
internal static class ModelProfiles
{
    private const string Calibration = "5f1c0e2d";

    public static PlanningProfile Mnv2() => new()
    {
        Model = "mnv2.onnx", ModelSha256 = "aa01", Images = 64, InputShape = [1, 3, 224, 224], Classes = 1001, CalibrationSha256 = Calibration,
        FullTop1 = 0.859, FullMs = 5.03, PreprocessMs = 0.53,
        Splits =
        [
            Split("expanded_conv_1/project", 1.16, 4.17, (59_355, 0.859), (15_918, 0.828)),
            Split("expanded_conv_6/project", 2.36, 2.81, (10_715, 0.859), (3_545, 0.859)),
            Split("expanded_conv_13/project", 3.76, 1.31, (6_591, 0.859), (2_304, 0.844)),
        ],
        Offload = [new OffloadPoint(90, 0.813, 0.9, 19_268, 21_000, 1.2, 1.5)],
    };

    public static PlanningProfile Mnv1Quarter() => new()
    {
        Model = "mnv1_025.onnx", ModelSha256 = "bb02", Images = 64, InputShape = [1, 3, 128, 128], Classes = 1001, CalibrationSha256 = Calibration,
        FullTop1 = 0.422, FullMs = 0.36, PreprocessMs = 0.2,
        Splits = [Split("conv_pw_5", 0.15, 0.21, (3_300, 0.422), (1_100, 0.406))],
        Offload = [new OffloadPoint(90, 0.39, 0.9, 7_000, 8_000, 0.5, 0.7)],
    };

    public static PlanningProfile Mnv1Half() => new()
    {
        Model = "mnv1_050.onnx", ModelSha256 = "cc03", Images = 64, InputShape = [1, 3, 160, 160], Classes = 1001, CalibrationSha256 = Calibration,
        FullTop1 = 0.641, FullMs = 1.3, PreprocessMs = 0.3,
        Splits = [Split("conv_pw_5", 0.55, 0.75, (6_500, 0.641), (2_100, 0.625))],
        Offload = [new OffloadPoint(90, 0.6, 0.9, 10_000, 11_000, 0.7, 0.9)],
    };

    private static SplitProfile Split(string tensor, double headMs, double tailMs, (double Bytes, double Top1) q8, (double Bytes, double Top1) q4) => new()
    {
        Tensor = tensor, Shape = [1, 64, 14, 14], HeadMs = headMs, TailMs = tailMs, Fp32Bytes = 50_176,
        Codecs =
        [
            new CodecPoint("quant:bits=8,entropy=rans", q8.Top1, 1, q8.Bytes, q8.Bytes * 1.05, 0.3, 0.3),
            new CodecPoint("rans-ifc:bits=4,ctx=2d", q4.Top1, 0.98, q4.Bytes, q4.Bytes * 1.1, 0.6, 0.6),
        ],
    };
}
