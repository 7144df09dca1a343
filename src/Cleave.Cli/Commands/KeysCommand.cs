using Cleave.Cli.Infrastructure;
using Cleave.Runtime.Serving.Security;

namespace Cleave.Cli.Commands;

public sealed class KeysCommand : ICommand
{
    public string Name => "keys";
    public string Summary => "manage a server's API key file: add a key (printed once, only its hash stored), revoke, list";
    public string Usage => """
        usage: cleave keys add NAME --file F [--quota rate=R,burst=B,concurrent=C] [--json]
               cleave keys revoke NAME --file F
               cleave keys list --file F [--json]
          add      makes a random key, appends NAME:sha256(key)[:quota] to F (created if absent) and prints the key on
                   stdout: the only time it is shown. Give it to the client (cleave client --api-key-file ...)
          revoke   removes NAME from F; a server started with --api-keys F stops accepting it within a second
          list     names and quotas in F (never keys: F holds none)
          --file F   the key file a server reads with --api-keys F (NAME:sha256(key)[:quota] per line)
          --quota rate=R,burst=B,concurrent=C  this caller's limits (requests/s, burst, requests in flight); default: the server's
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["file", "quota"], ["json"]);
        string file = cl.Require("file");
        bool json = cl.Has("json");
        switch (cl.Positional)
        {
            case ["add", string name]:
            {
                ClientQuota? quota;
                try { quota = cl.Get("quota") is { } q ? ClientQuota.Parse(q) : null; }
                catch (FormatException e) { throw new UsageException(e.Message); }
                string key = ApiKeyFile.Add(file, name, quota);
                if (json) Json.Write(w => { w.WriteStartObject(); w.WriteString("name", name); w.WriteString("key", key); w.WriteString("file", file); w.WriteEndObject(); });
                else Console.WriteLine(key);
                Console.Error.WriteLine($"added '{name}' to {file}; the key above is not stored anywhere: keep it now");
                return 0;
            }
            case ["revoke", string name]:
                if (!ApiKeyFile.Revoke(file, name))
                {
                    Console.Error.WriteLine($"cleave keys: no key named '{name}' in {file}");
                    return 1;
                }
                Console.Error.WriteLine($"revoked '{name}'");
                return 0;
            case ["list"]:
            {
                var entries = ApiKeyFile.Parse(File.ReadAllText(file));
                if (json)
                    Json.Write(w =>
                    {
                        w.WriteStartObject();
                        w.WriteStartArray("keys");
                        foreach (var e in entries) { w.WriteStartObject(); w.WriteString("name", e.Name); w.WriteString("quota", e.Quota?.ToString() ?? ""); w.WriteEndObject(); }
                        w.WriteEndArray();
                        w.WriteEndObject();
                    });
                else foreach (var e in entries) Console.WriteLine($"{e.Name}\t{(e.Quota is null ? "default quota" : e.Quota.ToString())}");
                return 0;
            }
            default:
                throw new UsageException("give add NAME, revoke NAME or list");
        }
    }
}
