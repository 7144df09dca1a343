using System.Text.Json;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Tests;

/// <summary>`train task-tail` adds a task to a split folder; `client --tasks` gets every task's answer from one request.</summary>
public sealed class MultiTaskCommandTests
{
    [AssetFact(MobileNetV1Fixture.TfLite, "vision/imagenet_wnids.txt", "imagenet-sample")]
    public async Task A_trained_task_tail_is_served_beside_the_default_task_and_an_unknown_task_is_refused()
    {
        using var dir = new TempFolder();
        MobileNetV1Fixture.Split(dir);
        string images = dir.File("images");
        Directory.CreateDirectory(images);
        foreach (string image in Directory.GetFiles(TestAssets.Path("imagenet-sample")).Order(StringComparer.Ordinal).Take(8))
            File.CreateSymbolicLink(Path.Combine(images, Path.GetFileName(image)), image);

        var (code, stdout, stderr) = CliRunner.Run("train", "task-tail", "--split", dir.File("split"), "--name", "fine8", "--data", images,
            "--wnids", TestAssets.Path("vision/imagenet_wnids.txt"), "--width", "4", "--steps", "2", "--batch", "4", "--validation", "0.25", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal("fine8", doc.RootElement.GetProperty("task").GetString());
            Assert.Equal(8, doc.RootElement.GetProperty("classes").GetInt32());
            Assert.Equal(2, doc.RootElement.GetProperty("steps").GetInt32());
        }

        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = dir.File("split"), Port = 0, Threads = 1 });
        string url = server.Url.ToString();
        (code, stdout, stderr) = CliRunner.Run("client", "--server", url, "--split", dir.File("split"), "--images", images, "--limit", "3",
            "--tasks", "fine8,default", "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("tasks default (classes, 1001), fine8 (classes, 8)", stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var requests = doc.RootElement.GetProperty("requests");
            Assert.Equal(3, requests.GetArrayLength());
            foreach (var request in requests.EnumerateArray())
            {
                var tasks = request.GetProperty("tasks");
                Assert.Equal(["fine8", "default"], tasks.EnumerateArray().Select(t => t.GetProperty("name").GetString()));
                Assert.InRange(tasks[0].GetProperty("top1").GetInt32(), 0, 7);
                Assert.Equal(request.GetProperty("top1").GetInt32(), tasks[0].GetProperty("top1").GetInt32());
            }
        }

        (code, stdout, stderr) = CliRunner.Run("client", "--server", url, "--split", dir.File("split"), "--images", images, "--limit", "1", "--tasks", "nope");
        Assert.Equal(1, code);
        Assert.Contains("no task 'nope'", stdout + stderr);
    }
}
