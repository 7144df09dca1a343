using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Cleave.Cli.Infrastructure;

/// <summary>
/// The <c>--log-level</c> option of the serving verbs: the server's structured events (and ASP.NET Core's warnings)
/// as single lines on stderr, so stdout keeps only what the verb prints for scripts. Quiet by default (warning).
/// </summary>
internal static class ServerLogging
{
    public const string Help = """
          --log-level L    the server's log on stderr: trace, debug, information, warning (default: only problems),
                           error, critical or none. information adds one line per refusal (full queue or quota, bad
                           credentials, invalid frame, refused handshake); debug adds every stream opened and closed.
                           ASP.NET Core's and Kestrel's own lines stay at warning unless L is trace
        """;

    private static readonly Dictionary<string, LogLevel> Levels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["trace"] = LogLevel.Trace, ["debug"] = LogLevel.Debug, ["information"] = LogLevel.Information, ["info"] = LogLevel.Information,
        ["warning"] = LogLevel.Warning, ["error"] = LogLevel.Error, ["critical"] = LogLevel.Critical, ["none"] = LogLevel.None,
    };

    public static LogLevel Parse(CommandLine cl)
    {
        string value = cl.Get("log-level") ?? "warning";
        return Levels.TryGetValue(value, out var level) ? level
            : throw new UsageException($"--log-level '{value}': use trace, debug, information, warning, error, critical or none");
    }

    public static ILoggerFactory Create(LogLevel level) => LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(level);
        // The framework's own information and debug lines (every request, every connection) would drown Cleave's events.
        if (level > LogLevel.Trace)
        {
            logging.AddFilter("Microsoft", (LogLevel l) => l >= LogLevel.Warning && l >= level);
            logging.AddFilter("Grpc", (LogLevel l) => l >= LogLevel.Warning && l >= level);
        }
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
