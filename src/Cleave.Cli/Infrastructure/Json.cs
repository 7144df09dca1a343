using System.Text;
using System.Text.Json;

namespace Cleave.Cli.Infrastructure;

/// <summary>Writes one indented JSON document to standard output (machine-readable output of every verb).</summary>
public static class Json
{
    public static void Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            write(writer);
        Console.Out.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>Writes a number, or null where it is not finite (JSON has no Infinity or NaN).</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumber(name, value);
        else writer.WriteNull(name);
    }
}
