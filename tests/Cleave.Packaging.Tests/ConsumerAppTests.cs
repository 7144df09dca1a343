using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Runtime;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Tests;
using Xunit.Abstractions;

namespace Cleave.Packaging.Tests;

/// <summary>
/// Cleave as a user gets it (issue 15): the packages `dotnet pack` makes, restored from a local folder feed into a
/// console app that knows nothing of this repository, talking to a real loopback <see cref="SplitServer"/>. Each phase's
/// time is printed (a slow pack or restore shows in the test output); the whole test is about 30-60 s on the 2-core machine.
/// </summary>
public sealed class ConsumerAppTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_console_app_built_from_the_packed_Cleave_Client_gets_the_tails_answer_from_a_loopback_server()
    {
        var clock = Stopwatch.StartNew();
        using var feed = await PackageFeed.PackAsync(["Cleave.Client", "Cleave.Imaging", "Cleave.Models", "Cleave.Codecs"], StepTimeout);
        output.WriteLine($"dotnet pack of Client, Models, Codecs as {feed.Version}: {clock.Elapsed.TotalSeconds:F1} s");

        var (entries, nuspec) = feed.Open("Cleave.Client");
        Assert.Contains("README.md", entries);
        Assert.Contains("lib/net10.0/Cleave.Client.dll", entries);
        Assert.Contains("lib/net10.0/Cleave.Client.xml", entries);
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
        Assert.Equal(feed.Version, dependencies["Cleave.Models"]);
        Assert.Equal(feed.Version, dependencies["Cleave.Codecs"]);
        Assert.Contains("Grpc.Net.Client", dependencies.Keys);
        Assert.DoesNotContain(dependencies.Keys, id => id.StartsWith("Grpc.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(nuspec.Descendants(), e => e.Name.LocalName == "frameworkReference"); // no ASP.NET Core on the device
        Assert.Equal("README.md", nuspec.Descendants().Single(e => e.Name.LocalName == "readme").Value);

        string app = CopyConsumerApp(feed);
        try
        {
            clock.Restart();
            (await DotnetCommand.RunAsync(app, StepTimeout, "build", "-c", "Release", "-o", "out", $"-p:CleaveVersion={feed.Version}",
                "--disable-build-servers", "-nodeReuse:false")).EnsureSuccess("dotnet build of the consumer app");
            output.WriteLine($"restore + build of the consumer app: {clock.Elapsed.TotalSeconds:F1} s");
            string runtimeConfig = await File.ReadAllTextAsync(Path.Combine(app, "out", "ConsumerApp.runtimeconfig.json"));
            Assert.DoesNotContain("Microsoft.AspNetCore.App", runtimeConfig, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(Path.Combine(app, "out"), "Microsoft.AspNetCore*.dll"));

            var split = TinySplit.Load();
            await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
            clock.Restart();
            var run = (await DotnetCommand.RunAsync(app, StepTimeout, Path.Combine(app, "out", "ConsumerApp.dll"), split.Path, server.Url.ToString()))
                .EnsureSuccess("the consumer app");
            output.WriteLine($"consumer app run: {clock.Elapsed.TotalSeconds:F1} s; {run.Output.Trim()}");

            Assert.Equal(1, server.Metrics.Executed(ServingModes.Split));
            Assert.Contains($"top1={ExpectedTop1(split)}", run.Output, StringComparison.Ordinal);
            Assert.Contains($"first={ExpectedTop1(split)} server=named", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            try { Directory.Delete(app, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>What the app must print: its fixed input through the head, the same codec and the tail, here in-process.</summary>
    private static int ExpectedTop1(SplitDirectory split)
    {
        var x = new float[16];
        for (int i = 0; i < x.Length; i++) x[i] = (i % 5) * 0.25f - 0.5f;
        using var head = new OrtModelRunner(File.ReadAllBytes(split.HeadPath));
        var cut = head.Run(new Dictionary<string, HostTensor> { [split.Manifest.HeadInputs[0].Name] = new(OnnxElementType.Float, [1, 16], x) })[head.OutputNames[0]];
        byte[] frame = FeatureCodecs.Create("quant:bits=8,entropy=rans").Encode((float[])cut.Data, new TensorShape(1, (int)cut.Shape[1]));
        return TinySplit.LocalTop1(frame);
    }

    /// <summary>
    /// The app's two files in a temporary folder with a NuGet.config of its own: the feed first, then nuget.org; packages
    /// go to a folder of the app's own, and the machine's package cache is a read-only fallback, so restore downloads
    /// nothing the solution's restore already brought.
    /// </summary>
    private static string CopyConsumerApp(PackageFeed feed)
    {
        string app = Directory.CreateTempSubdirectory("cleave-consumer-").FullName;
        foreach (string file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "ConsumerApp")))
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        string machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(app, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(app, "packages")}" /></config>
              <packageSources>
                <clear />
                <add key="cleave-feed" value="{feed.Folder}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <fallbackPackageFolders>
                <clear />
                <add key="machine" value="{machineCache}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        return app;
    }
}
