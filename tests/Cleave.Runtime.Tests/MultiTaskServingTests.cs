using Cleave.Codecs;
using Cleave.Models.Splitting;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>Several task tails on one cut, served from one transmission by a real server on a loopback port.</summary>
public sealed class MultiTaskServingTests
{
    private const string Codec = "quant:bits=8,entropy=rans";

    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public async Task One_request_gets_every_named_task_answered_as_each_tail_answers_locally()
    {
        using var tasks = new MultiTaskSplit();
        var codec = FeatureCodecs.Create(Codec);
        using var head = SplitHead.Load(tasks.Split);
        var frames = MobileNetSplit.Images(4).Select(p => head.Encode(p, codec).Frame).ToList();

        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = tasks.Path, Port = 0, MaxBatch = 4 });
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = server.Url, ManifestHash = tasks.Split.ManifestHash, Codecs = [Codec], Tasks = ["coarse", "imagenet", "pooled"],
        });
        Assert.Equal(["imagenet", "coarse", "pooled"], client.Welcome.Tasks.Select(t => t.Name));
        Assert.Equal(["classes", "classes", "tensor"], client.Welcome.Tasks.Select(t => t.Kind));
        Assert.Equal([1001, MultiTaskSplit.CoarseClasses, MultiTaskSplit.Channels], client.Welcome.Tasks.Select(t => t.Outputs));

        // All in flight at once: the server batches them, and each task runs once per batch on the decoded frames.
        var answers = await Task.WhenAll(frames.Select(f => client.InferAsync(f)));
        for (int i = 0; i < frames.Count; i++)
        {
            var a = answers[i];
            Assert.Equal(["coarse", "imagenet", "pooled"], a.Tasks.Select(t => t.Name));
            var coarse = tasks.RunLocally("coarse", frames[i]);
            Assert.Equal(MultiTaskSplit.Top1(coarse), a.Tasks[0].Top1);
            Assert.Equal(coarse[a.Tasks[0].Top1], a.Tasks[0].Top[0].Score, 4);
            Assert.Equal(5, a.Tasks[0].Top.Count);
            Assert.Null(a.Tasks[0].OutputFrame);
            Assert.Equal(MultiTaskSplit.Top1(tasks.RunLocally("imagenet", frames[i])), a.Tasks[1].Top1);
            // The tensor task: no classes, its whole output in a raw frame.
            Assert.Empty(a.Tasks[2].Top);
            var pooled = FeatureFrame.Decode(a.Tasks[2].OutputFrame!, out _);
            var expected = tasks.RunLocally("pooled", frames[i]);
            Assert.Equal(expected.Length, pooled.Length);
            for (int j = 0; j < expected.Length; j++) Assert.Equal(expected[j], pooled[j], 4);
            // The single-task fields carry the first named task; per-task times add up to the request's tail time.
            Assert.Equal(a.Tasks[0].Top1, a.Top1);
            Assert.All(a.Tasks, t => Assert.True(t.TailMs > 0));
            Assert.Equal(a.Tasks.Sum(t => t.TailMs), a.Timing.TailMs, 6);
        }
        // One transmission per image, whatever the number of tasks.
        Assert.Equal(frames.Count, server.Metrics.Executed(ServingModes.Split));

        // A client that names no task gets the default task as before, with no per-task list.
        await using var plain = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = tasks.Split.ManifestHash, Codecs = [Codec] });
        var old = await plain.InferAsync(frames[0]);
        Assert.Empty(old.Tasks);
        Assert.Equal(answers[0].Tasks[1].Top1, old.Top1);
    }

    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public async Task A_request_naming_an_unknown_task_gets_a_typed_error_while_another_client_carries_on()
    {
        using var tasks = new MultiTaskSplit();
        var codec = FeatureCodecs.Create(Codec);
        using var head = SplitHead.Load(tasks.Split);
        var frames = MobileNetSplit.Images(3).Select(p => head.Encode(p, codec).Frame).ToList();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = tasks.Path, Port = 0, MaxBatch = 4 });
        var options = new SplitClientOptions { Server = server.Url, ManifestHash = tasks.Split.ManifestHash, Codecs = [Codec] };
        await using var good = await SplitClient.ConnectAsync(options with { Tasks = ["imagenet", "coarse"] });
        await using var unknown = await SplitClient.ConnectAsync(options with { Tasks = ["coarse", "no-such-task"] });
        await using var twice = await SplitClient.ConnectAsync(options with { Tasks = ["coarse", "coarse"] });

        var goodAnswers = Enumerable.Range(0, 12).Select(i => good.InferAsync(frames[i % frames.Count])).ToList();
        var refused = await Assert.ThrowsAsync<SplitInferenceException>(() => unknown.InferAsync(frames[0]));
        Assert.Equal(SplitErrorCode.UnknownTask, refused.Code);
        Assert.Contains("no-such-task", refused.Message);
        Assert.Contains("imagenet, coarse, pooled", refused.Message);
        var repeated = await Assert.ThrowsAsync<SplitInferenceException>(() => twice.InferAsync(frames[0]));
        Assert.Equal(SplitErrorCode.InvalidRequest, repeated.Code);

        var answers = await Task.WhenAll(goodAnswers);
        for (int i = 0; i < answers.Length; i++)
        {
            Assert.Equal(MultiTaskSplit.Top1(tasks.RunLocally("coarse", frames[i % frames.Count])), answers[i].Tasks[1].Top1);
            Assert.Equal(1, answers[i].Attempts);
        }
        // The refused requests were never decoded or run.
        Assert.Equal(answers.Length, server.Metrics.Executed(ServingModes.Split));
        Assert.Equal(1, server.Metrics.ErrorCount(SplitErrorCode.UnknownTask));
    }

    [AssetFact(MobileNetSplit.TfLite)]
    public void A_manifest_naming_a_file_outside_its_folder_or_a_task_twice_is_refused_and_tasks_leave_the_hash_alone()
    {
        var manifest = SplitManifest.Load(Path.Combine(MobileNetSplit.SplitPath, "split.json"));
        var withTask = manifest.WithTasks([new SplitTask { Name = "imagenet", File = manifest.TailFile }, new SplitTask { Name = "coarse", File = "c.onnx" }]);
        Assert.Equal(manifest.ComputeHash(), withTask.ComputeHash());
        Assert.Equal(["imagenet", "coarse"], SplitManifest.FromJson(withTask.ToJson()).Tasks.Select(t => t.Name));
        Assert.Equal([SplitManifest.DefaultTaskName], manifest.EffectiveTasks().Select(t => t.Name));

        Assert.Throws<InvalidDataException>(() => manifest.WithTasks([new SplitTask { Name = "a", File = manifest.TailFile }, new SplitTask { Name = "b", File = "../../etc/passwd" }]));
        Assert.Throws<InvalidDataException>(() => manifest.WithTasks([new SplitTask { Name = "a", File = manifest.TailFile }, new SplitTask { Name = "b", File = "b.onnx", Labels = "/etc/passwd" }]));
        Assert.Throws<InvalidDataException>(() => manifest.WithTasks([new SplitTask { Name = "a", File = manifest.TailFile }, new SplitTask { Name = "a", File = "b.onnx" }]));
        Assert.Throws<InvalidDataException>(() => manifest.WithTasks([new SplitTask { Name = "b", File = "b.onnx" }]));
        Assert.Throws<InvalidDataException>(() => manifest.WithTasks([new SplitTask { Name = "Bad Name", File = manifest.TailFile }]));
        Assert.Throws<InvalidDataException>(() => manifest.WithTasks([new SplitTask { Name = "a", File = manifest.TailFile, Kind = "boxes" }]));
    }

    [AssetFact(MobileNetSplit.TfLite)]
    public void A_task_tail_changed_behind_the_manifest_is_refused_at_load()
    {
        using var tasks = new MultiTaskSplit();
        File.AppendAllText(Path.Combine(tasks.Path, "task-coarse.onnx"), " ");
        var error = Assert.Throws<InvalidDataException>(() => SplitTailBackend.Load(tasks.Path));
        Assert.Contains("task-coarse.onnx", error.Message);
    }
}
