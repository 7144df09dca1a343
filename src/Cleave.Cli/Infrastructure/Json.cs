using System.Text.Json;

namespace Cleave.Cli.Infrastructure;

/// <summary>Writes one indented JSON document to standard output (machine-readable output of every verb).</summary>
public static class Json
{
    public static void Write(Action<Utf8JsonWriter> write)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
            write(writer);
        stdout.Write("\n"u8);
    }

    /// <summary>Writes a number, or null where it is not finite (JSON has no Infinity or NaN).</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumber(name, value);
        else writer.WriteNull(name);
    }
}
