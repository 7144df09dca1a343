#:project ../src/Cleave.Cluster/Cleave.Cluster.csproj
#:property PublishAot=false
// What TLS between silos costs a grain call that crosses silos (docs/scaling.md, "TLS between silos").
// Usage: dotnet run docs/silo-tls-cost.cs -- [calls=4000] [concurrency=32]
// Two silos in this process (development clustering, cleartext first, then mutual TLS with one self-signed
// certificate); from each silo, `calls` reads of the cluster registry grain, `concurrency` at a time. The registry lives
// on one of the two, so one silo's calls are local and the other's cross the silo port: the slower row is the remote one.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Hosting;
using Cleave.Cluster.Security;
using Cleave.Cluster.Status;
using Microsoft.Extensions.DependencyInjection;

int calls = args.Length > 0 ? int.Parse(args[0]) : 4000, concurrency = args.Length > 1 ? int.Parse(args[1]) : 32;
string pfx = Path.Combine(Path.GetTempPath(), $"silo-tls-cost-{Environment.ProcessId}.pfx");
using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
{
    var request = new CertificateRequest("CN=cleave-silo", key, HashAlgorithmName.SHA256);
    using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    File.WriteAllBytes(pfx, self.Export(X509ContentType.Pkcs12, "bench"));
}
foreach (bool tls in new[] { false, true, false, true })
{
    var tlsOptions = tls ? new SiloTlsOptions { CertificatePath = pfx, CertificatePassword = "bench" } : null;
    int port = 21111 + (tls ? 10 : 0);
    ClusterSiloOptions Silo(int silo, int? primary) => new()
    {
        SiloPort = silo, GatewayPort = silo + 1, PrimarySiloPort = primary, ClusterId = "tls-cost",
        FrontEnd = new FrontEndOptions { Port = 0 }, Tls = tlsOptions, StartDeadline = TimeSpan.FromSeconds(120),
    };
    await using var a = await ClusterSilo.StartAsync(Silo(port, null));
    await using var b = await ClusterSilo.StartAsync(Silo(port + 2, port));
    foreach (var (name, silo) in new[] { ("A", a), ("B", b) })
    {
        var registry = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IClusterRegistryGrain>(0);
        for (int i = 0; i < 200; i++) await registry.List(); // warm-up (connections, JIT)
        var latencies = new double[calls];
        int next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < calls;)
            {
                long start = Stopwatch.GetTimestamp();
                await registry.List();
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }));
        double seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        Console.WriteLine($"{(tls ? "TLS      " : "cleartext")} from {name}: {calls / seconds,8:0} calls/s, p50 {latencies[calls / 2]:0.000} ms, p99 {latencies[calls * 99 / 100]:0.000} ms");
    }
}
File.Delete(pfx);
