namespace Cleave.Models.Importers.Llama2c;

/// <summary>
/// Thrown when a llama2.c checkpoint or tokenizer file is truncated, has an impossible header, or its size does not
/// match what the header promises (the usual sign of a modified or wrong file).
/// </summary>
public sealed class Llama2cFormatException(string message) : IOException(message);
