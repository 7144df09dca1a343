using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Cluster.Status;

namespace Cleave.Cli.Commands;

public sealed class ClusterStatusCommand : ICommand
{
    public string Name => "cluster status";
    public string Summary => "list the silos of a Cleave cluster: front ends, sessions, cuts and load";
    public string Usage => """
        usage: cleave cluster status [--server http://127.0.0.1:7070] [--timeout-ms T] [--json]
          --server URL     the gRPC front end of any silo (`cleave serve ... --cluster ...`); default http://127.0.0.1:7070
          --timeout-ms T   give up after T ms (default 5000)
          --json           one JSON document (silos with every field) instead of the table
        Silos report every 2 s; one that missed three reports (it died or left) is no longer listed.
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["server", "timeout-ms"], ["json"]);
        if (cl.Positional.Count > 0) throw new UsageException($"unexpected argument '{cl.Positional[0]}'");
        string server = cl.Get("server") ?? "http://127.0.0.1:7070";
        var uri = ServerAddressParsing.ParseOne(server);
        int timeoutMs = cl.GetInt("timeout-ms", 5000);
        if (timeoutMs < 1) throw new UsageException("--timeout-ms must be at least 1");
        ClusterStatus status;
        try
        {
            status = ClusterStatus.FetchAsync(uri, TimeSpan.FromMilliseconds(timeoutMs)).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new IOException($"no cluster status from {server}: {e.Message}", e);
        }
        if (cl.Has("json"))
        {
            Json.Write(w => System.Text.Json.JsonSerializer.Serialize(w, status, JsonNames.SnakeCase));
            return 0;
        }
        Console.WriteLine($"{status.Silos.Length} silo(s), {status.Sessions} session(s)");
        if (status.Stale is { } stale) Console.WriteLine($"stale: {stale}");
        Console.WriteLine($"{"silo",-28} {"front end",-24} {"sessions",8} {"resumed",8} {"requests",9} {"cpu %",6} {"memory MB",9}  cuts");
        foreach (var silo in status.Silos)
        {
            string cuts = silo.Cuts.Length == 0 ? "-" : string.Join(",", silo.Cuts.Select(c => c.Length > 12 ? c[..12] : c));
            if (silo.LanguageModel.Length > 0) cuts += $" lm:{silo.LanguageModel[..Math.Min(12, silo.LanguageModel.Length)]}@{silo.LanguageModel[(silo.LanguageModel.LastIndexOf('@') + 1)..]}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{silo.Silo,-28} {silo.FrontEnd,-24} {silo.Sessions,8} {silo.SessionsResumed,8} {silo.Requests,9} {silo.CpuPercent,6:0} {silo.WorkingSetBytes / (1 << 20),9}  {cuts}"));
        }
        return 0;
    }
}
