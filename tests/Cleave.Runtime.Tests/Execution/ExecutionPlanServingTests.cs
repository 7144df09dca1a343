using Cleave.Codecs;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests.Execution;

/// <summary>A real server running several sessions side by side (given or calibrated plans), on the synthetic split.</summary>
public sealed class ExecutionPlanServingTests
{
    [Fact]
    public async Task Two_sessions_answer_many_clients_as_the_tail_does_in_process_and_metrics_name_the_plan()
    {
        var plan = ExecutionPlan.Parse("streams=2,threads=1,batch=4,delay-ms=2");
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Execution = plan });
        Assert.Equal(plan, server.State.Plan);
        Assert.Null(server.State.Calibration);
        var frames = TinySplit.Frames(24, seed: 11);
        await AnswersMatchTheLocalTail(server, frames);
        Assert.Equal(frames.Length, server.Metrics.Executed(ServingModes.Split));
        string metrics = server.Metrics.ToPrometheusText();
        Assert.Contains("cleave_execution_plan_info{streams=\"2\",threads=\"1\",max_batch=\"4\",delay_ms=\"2\",chosen_by=\"given\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("cleave_execution_streams 2", metrics, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_allocated_bytes_total ", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_calibrates_at_start_picks_one_of_its_candidates_and_serves_with_it()
    {
        var settings = new CalibrationSettings { Cores = 2, Window = TimeSpan.FromMilliseconds(30), Rounds = 1 };
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, AutoExecution = true, Calibration = settings,
        });
        var calibration = Assert.IsType<ExecutionCalibration>(server.State.Calibration);
        var candidates = ExecutionCalibrator.Candidates(2, settings.Batches);
        Assert.Equal(candidates, calibration.Trials.Select(t => t.Plan));
        Assert.All(calibration.Trials, t => Assert.True(t.SamplesPerSecond > 0, $"{t.Plan} ran nothing"));
        Assert.Contains(calibration.Chosen, candidates);
        Assert.Equal(calibration.Chosen, server.State.Plan);
        Assert.Contains($"streams=\"{calibration.Chosen.Streams}\"", server.Metrics.ToPrometheusText(), StringComparison.Ordinal);
        Assert.Contains("chosen_by=\"auto\"", server.Metrics.ToPrometheusText(), StringComparison.Ordinal);
        await AnswersMatchTheLocalTail(server, TinySplit.Frames(8, seed: 12));
    }

    private static async Task AnswersMatchTheLocalTail(SplitServer server, byte[][] frames)
    {
        var clients = new SplitClient[4];
        for (int c = 0; c < clients.Length; c++) clients[c] = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = TinySplit.Load().ManifestHash });
        try
        {
            var answers = await Task.WhenAll(frames.Select((frame, i) => clients[i % clients.Length].InferAsync(frame)));
            for (int i = 0; i < frames.Length; i++) Assert.Equal(TinySplit.LocalTop1(frames[i]), answers[i].Top1);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }
}
