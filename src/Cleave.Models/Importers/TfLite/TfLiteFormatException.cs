namespace Cleave.Models.Importers.TfLite;

/// <summary>
/// Thrown when a .tflite file is truncated, corrupted or not a TFLite model: every offset the reader follows is
/// checked against the buffer, so a hostile file ends here instead of in an out-of-range read.
/// </summary>
public sealed class TfLiteFormatException(string message) : IOException(message);
