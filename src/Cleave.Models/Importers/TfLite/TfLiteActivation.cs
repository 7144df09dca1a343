namespace Cleave.Models.Importers.TfLite;

/// <summary>TFLite's fused ActivationFunctionType and Padding enums (schema.fbs).</summary>
internal static class TfLiteActivation
{
    public const byte None = 0, Relu = 1, ReluN1To1 = 2, Relu6 = 3, Tanh = 4, SignBit = 5;
}

internal static class TfLitePadding
{
    public const byte Same = 0, Valid = 1;
}
