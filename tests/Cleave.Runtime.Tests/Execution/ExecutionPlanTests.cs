using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests.Execution;

/// <summary>The execution plan's text form (`cleave serve --exec`), its typed errors, and how calibration picks among candidates.</summary>
public sealed class ExecutionPlanTests
{
    [Fact]
    public void A_plan_parses_in_any_order_and_keys_left_out_keep_their_defaults()
    {
        var plan = ExecutionPlan.Parse("delay-ms=0.5,batch=4,streams=2");
        Assert.Equal(2, plan.Streams);
        Assert.Equal(0, plan.Threads);
        Assert.Equal(4, plan.MaxBatch);
        Assert.Equal(TimeSpan.FromMilliseconds(0.5), plan.MaxDelay);
        Assert.Equal(plan, ExecutionPlan.Parse(plan.ToString()));
        Assert.Equal("streams=1,threads=1,batch=8,delay-ms=2", ExecutionPlan.Parse("threads=1").ToString());
    }

    [Theory]
    [InlineData("", ExecutionPlanError.Malformed)]
    [InlineData("streams", ExecutionPlanError.Malformed)]
    [InlineData("streams=", ExecutionPlanError.Malformed)]
    [InlineData("=2", ExecutionPlanError.Malformed)]
    [InlineData("cores=2", ExecutionPlanError.UnknownKey)]
    [InlineData("batch=2,batch=4", ExecutionPlanError.DuplicateKey)]
    [InlineData("streams=two", ExecutionPlanError.BadValue)]
    [InlineData("streams=-1", ExecutionPlanError.BadValue)]
    [InlineData("delay-ms=NaN", ExecutionPlanError.BadValue)]
    [InlineData("streams=0", ExecutionPlanError.OutOfRange)]
    [InlineData("streams=65", ExecutionPlanError.OutOfRange)]
    [InlineData("threads=257", ExecutionPlanError.OutOfRange)]
    [InlineData("batch=0", ExecutionPlanError.OutOfRange)]
    [InlineData("batch=1025", ExecutionPlanError.OutOfRange)]
    [InlineData("delay-ms=1000.5", ExecutionPlanError.OutOfRange)]
    [InlineData("streams=99999999999", ExecutionPlanError.BadValue)]
    public void A_bad_plan_is_refused_with_the_reason(string text, ExecutionPlanError expected) =>
        Assert.Equal(expected, Assert.Throws<ExecutionPlanException>(() => ExecutionPlan.Parse(text)).Error);

    [Fact]
    public void A_plan_and_calibration_together_are_refused_by_the_options()
    {
        var options = new SplitServerOptions { SplitDirectory = "x", Execution = new ExecutionPlan(), AutoExecution = true };
        Assert.Throws<ArgumentException>(options.Validate);
        Assert.Throws<ArgumentException>(new SplitServerOptions { SplitDirectory = "x", Execution = new ExecutionPlan { Streams = 0 } }.Validate);
        Assert.Throws<ArgumentException>(new SplitServerOptions { FullModelPath = "m.onnx", AutoExecution = true }.Validate);
    }

    [Fact]
    public void Candidates_fill_the_cores_with_sessions_times_threads_at_every_batch_size()
    {
        var two = ExecutionCalibrator.Candidates(2, [1, 4]);
        Assert.Equal(["streams=1,threads=2,batch=1,delay-ms=0", "streams=2,threads=1,batch=1,delay-ms=0",
            "streams=1,threads=2,batch=4,delay-ms=2", "streams=2,threads=1,batch=4,delay-ms=2"], two.Select(p => p.ToString()));
        var six = ExecutionCalibrator.Candidates(6, [1]);
        Assert.Equal([(1, 6), (2, 3), (4, 1), (6, 1)], six.Select(p => (p.Streams, p.Threads)));
        Assert.All(ExecutionCalibrator.Candidates(1, [1]), p => Assert.Equal((1, 1), (p.Streams, p.Threads)));
    }

    [Fact]
    public void Calibration_prefers_the_simpler_plan_within_the_tolerance_and_the_fastest_beyond_it()
    {
        var plans = ExecutionCalibrator.Candidates(2, [1, 4]);
        CalibrationTrial[] trials = [new(plans[0], 100), new(plans[1], 180), new(plans[2], 120), new(plans[3], 185)];
        // Batch 4 is 2.8 % faster: within 5 %, so batch 1 (no waiting) wins.
        Assert.Equal(plans[1], ExecutionCalibrator.Choose(trials, 0.05));
        Assert.Equal(plans[3], ExecutionCalibrator.Choose(trials, 0.01));
        Assert.Throws<ArgumentException>(() => ExecutionCalibrator.Choose([], 0.05));
    }
}
