using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cleave.Cli.Infrastructure;

/// <summary>
/// Writes one indented JSON document to standard output (machine-readable output of every verb). Relaxed escaping keeps
/// generated text and non-ASCII names readable (\" rather than \u0022); the output is for files and pipes, not HTML.
/// </summary>
public static class Json
{
    public static void Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer);
        Console.Out.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>Writes a number, or null where it is not finite (JSON has no Infinity or NaN).</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumber(name, value);
        else writer.WriteNull(name);
    }

    /// <summary>Writes one JSON array with an object per item (the result rows of a verb).</summary>
    public static void WriteObjects<T>(IEnumerable<T> items, Action<Utf8JsonWriter, T> writeFields) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var item in items)
        {
            w.WriteStartObject();
            writeFields(w, item);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });
}
