using System.Text.Json;
using Cleave.Runtime.Links;
using Cleave.Runtime.Serving;
using Cleave.Training.Resilience;

namespace Cleave.Cli.Tests;

/// <summary>
/// `client --ber P` without `--tasks` names the split folder's error-aware task (trained-channel record written by
/// <see cref="ErrorAwareTask.Add"/>) and a real loopback server answers from it; no --ber or an explicit --tasks does not.
/// </summary>
public sealed class ChannelTaskChoiceCommandTests
{
    private const string Codec = "resilient:planes=1,rows=8/quant:bits=8";

    [AssetFact(MobileNetV1Fixture.TfLite, "imagenet-sample")]
    public async Task A_declared_bad_channel_names_the_error_aware_task_and_the_server_answers_from_it()
    {
        using var dir = new TempFolder();
        string split = MobileNetV1Fixture.Split(dir);
        string plain = dir.File("plain");
        Directory.CreateDirectory(plain);
        foreach (string file in Directory.GetFiles(split)) File.Copy(file, Path.Combine(plain, Path.GetFileName(file)));
        // The tail itself stands in for a trained error-aware tail: what is tested is the record and the choice, not the training.
        var manifest = ErrorAwareTask.Add(split, Path.Combine(split, "tail.onnx"), "noisy", [new BitErrorModel(1e-3, 64)]);
        Assert.Equal(64, manifest.Tasks[1].TrainedChannels!.Single().BurstBits);

        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = split, Port = 0, Threads = 1 });
        string[] common = ["client", "--server", server.Url.ToString(), "--split", split, "--images", TestAssets.Path("imagenet-sample"),
            "--limit", "3", "--codec", Codec, "--json"];

        // 2e-4 is above a tenth of the trained 1e-3: the error-aware task is named and answers every request.
        var (code, stdout, stderr) = CliRunner.Run([.. common, "--ber", "2e-4", "--link-seed", "5"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("error-aware task 'noisy'", stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal("noisy", doc.RootElement.GetProperty("task_chosen").GetString());
            Assert.Contains("BER 0.0002", doc.RootElement.GetProperty("task_reason").GetString());
            var requests = doc.RootElement.GetProperty("requests");
            Assert.Equal(3, requests.GetArrayLength());
            foreach (var request in requests.EnumerateArray())
                Assert.Equal(["noisy"], request.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        }

        // No declared channel: the default task, as before (no task list in the answers).
        (code, stdout, stderr) = CliRunner.Run(common);
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("task_chosen").ValueKind);
            Assert.All(doc.RootElement.GetProperty("requests").EnumerateArray(), r => Assert.False(r.TryGetProperty("tasks", out _)));
        }

        // A server whose folder lacks the task (task lists are not hashed): the client falls back to the default task.
        await using (var older = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = plain, Port = 0, Threads = 1 }))
        {
            (code, stdout, stderr) = CliRunner.Run(["client", "--server", older.Url.ToString(), .. common[3..], "--ber", "2e-4", "--link-seed", "5"]);
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("task_chosen").ValueKind);
            Assert.Contains("does not serve task 'noisy'", doc.RootElement.GetProperty("task_reason").GetString());
            Assert.All(doc.RootElement.GetProperty("requests").EnumerateArray(), r => Assert.False(r.TryGetProperty("tasks", out _)));
        }

        // --tasks wins over the declared channel.
        (code, stdout, stderr) = CliRunner.Run([.. common, "--ber", "2e-4", "--link-seed", "5", "--tasks", "default"]);
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("task_chosen").ValueKind);
            Assert.Contains("--tasks", doc.RootElement.GetProperty("task_reason").GetString());
            Assert.All(doc.RootElement.GetProperty("requests").EnumerateArray(),
                r => Assert.Equal(["default"], r.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("name").GetString())));
        }
    }
}
