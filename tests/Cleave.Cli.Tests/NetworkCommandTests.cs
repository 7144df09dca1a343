using System.Text.Json;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Tests;

/// <summary>`client` and `loadtest` against a real server on a loopback port (started in-process), `serve` usage.</summary>
public sealed class NetworkCommandTests
{
    private const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";

    [AssetFact("vision/mobilenet_v1_0.25_128_quant.tflite", "imagenet-sample")]
    public async Task Client_and_loadtest_verbs_talk_to_a_real_server()
    {
        string tflite = TestAssets.Path("vision/mobilenet_v1_0.25_128_quant.tflite");
        string images = TestAssets.Path("imagenet-sample");

        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", tflite, "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("split", dir.File("m.onnx"), "--at", Cut, "-o", dir.File("split"));
        Assert.True(code == 0, stderr);
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = dir.File("split"), FullModelPath = dir.File("m.onnx"), Port = 0, Threads = 1,
        });
        string url = server.Url.ToString();
        // A first address where nothing listens: the client and the load test fail over to the real server.
        string deadThenLive = $"{DeadAddress()},{url}";

        (code, var stdout, stderr) = CliRunner.Run("client", "--server", url, "--split", dir.File("split"), "--images", images,
            "--limit", "3", "--check", "--link", "wifi", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(3, doc.RootElement.GetProperty("requests").GetArrayLength());
            var summary = doc.RootElement.GetProperty("summary");
            Assert.Equal(3, summary.GetProperty("answered").GetInt32());
            Assert.Equal(3, summary.GetProperty("check_agreed").GetInt32());
            Assert.True(summary.GetProperty("uplink_ms").GetDouble() >= 2.5, "the wifi preset adds half its 5 ms RTT");
        }

        (code, stdout, stderr) = CliRunner.Run("client", "--server", deadThenLive, "--mode", "full", "--images", images, "--limit", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("2/2 answered", stdout);
        Assert.Contains($"connected to {url}", stderr);

        (code, stdout, stderr) = CliRunner.Run("loadtest", "--server", deadThenLive, "--split", dir.File("split"), "--images", images,
            "--limit", "2", "--clients", "3", "--duration", "1", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var report = doc.RootElement;
            Assert.True(report.GetProperty("answered").GetInt64() > 0);
            Assert.Equal(report.GetProperty("sent").GetInt64(), report.GetProperty("answered").GetInt64());
            Assert.Equal(0, report.GetProperty("lost").GetInt64());
            Assert.Equal(report.GetProperty("answered").GetInt64(), report.GetProperty("server_executed").GetInt64());
            Assert.True(report.GetProperty("server_cpu_seconds_per_request").GetDouble() > 0);
        }
    }

    /// <summary>An http:// address on a loopback port where nothing listens (connections are refused).</summary>
    internal static string DeadAddress()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }

    [Fact]
    public void A_server_list_with_a_bad_address_is_a_usage_error()
    {
        var (code, _, stderr) = CliRunner.Run("loadtest", "--server", "http://127.0.0.1:1,ftp://x", "--mode", "full", "--images", ".");
        Assert.Equal(2, code);
        Assert.Contains("'ftp://x' is not an http:// or https:// address", stderr);
    }

    [Fact]
    public void A_client_whose_server_never_appears_says_so_in_one_line()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("a.jpg"), [0xFF, 0xD8]); // never read: the connect fails first
        string dead = DeadAddress();
        // No --deadline-ms: nothing listening fails after the first-connect grace (3 s), not the 60 s retry deadline.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (code, stdout, stderr) = CliRunner.Run("client", "--server", dead, "--mode", "full", "--images", dir.Path);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(1, code);
        Assert.Equal($"cleave client: cannot reach {dead}: connection refused; is 'cleave serve' running?", stderr.Trim());
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Serve_without_a_model_and_unknown_links_are_usage_errors()
    {
        var (code, _, stderr) = CliRunner.Run("serve", "--port", "0");
        Assert.Equal(2, code);
        Assert.Contains("--full", stderr);
        (code, _, stderr) = CliRunner.Run("client", "--server", "http://127.0.0.1:1", "--mode", "full", "--images", ".", "--link", "mars");
        Assert.NotEqual(0, code);
        Assert.Contains("lora", stderr); // the error lists the known presets
    }

    [Fact]
    public void A_bad_execution_plan_is_a_usage_error_that_names_the_reason()
    {
        var (code, _, stderr) = CliRunner.Run("serve", "split-dir", "--exec", "streams=2,cores=4");
        Assert.Equal(2, code);
        Assert.Contains("unknown key 'cores'", stderr);
        (code, _, stderr) = CliRunner.Run("serve", "split-dir", "--exec", "streams=0");
        Assert.Equal(2, code);
        Assert.Contains("streams must be between 1 and 64", stderr);
        (code, _, stderr) = CliRunner.Run("serve", "split-dir", "--exec", "auto", "--max-batch", "4");
        Assert.Equal(2, code);
        Assert.Contains("--max-batch", stderr);
    }
}
