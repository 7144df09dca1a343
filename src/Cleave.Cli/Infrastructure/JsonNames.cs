using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cleave.Cli.Infrastructure;

/// <summary>Serializer options for records written whole into JSON output: snake_case keys, as everywhere else.</summary>
public static class JsonNames
{
    public static JsonSerializerOptions SnakeCase { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
