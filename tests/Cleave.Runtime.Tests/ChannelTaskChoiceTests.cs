using Cleave.Models.Splitting;
using Cleave.Runtime.Client;
using Cleave.Runtime.Links;

namespace Cleave.Runtime.Tests;

/// <summary>The client's pick of an error-aware task by its declared channel, and the trained channels in split.json.</summary>
public sealed class ChannelTaskChoiceTests
{
    private static readonly SplitTask Default = new() { Name = "default", File = "tail.onnx" };
    private static readonly SplitTask Coarse = new() { Name = "coarse", File = "task-coarse.onnx" };

    private static SplitTask ErrorAware(string name, params double[] rates) =>
        new() { Name = name, File = $"task-{name}.onnx", TrainedChannels = [.. rates.Select(r => new SplitTaskChannel { Ber = r, BurstBits = 64 })] };

    [Fact]
    public void A_declared_rate_picks_the_error_aware_task_from_a_tenth_of_its_lowest_trained_rate_up()
    {
        SplitTask[] tasks = [Default, Coarse, ErrorAware("ber-1e-3", 1e-3)];
        Assert.Equal("ber-1e-3", ChannelTaskChoice.Choose(tasks, new BitErrorModel(1e-3), null).Chosen);
        Assert.Equal("ber-1e-3", ChannelTaskChoice.Choose(tasks, new BitErrorModel(1e-2), null).Chosen);
        var atTheEdge = ChannelTaskChoice.Choose(tasks, new BitErrorModel(1e-4), null);
        Assert.Equal(["ber-1e-3"], atTheEdge.Tasks);
        var below = ChannelTaskChoice.Choose(tasks, new BitErrorModel(9e-5), null);
        Assert.Null(below.Chosen);
        Assert.Empty(below.Tasks);
        Assert.Contains("below a tenth", below.Reason);
    }

    [Fact]
    public void No_errors_explicit_tasks_or_a_folder_without_error_aware_tasks_never_pick_one()
    {
        SplitTask[] tasks = [Default, ErrorAware("noisy", 1e-4, 1e-3)];
        var none = ChannelTaskChoice.Choose(tasks, BitErrorModel.None, null);
        Assert.Null(none.Chosen);
        Assert.Empty(none.Tasks);
        var named = ChannelTaskChoice.Choose(tasks, new BitErrorModel(1e-3), ["default"]);
        Assert.Null(named.Chosen);
        Assert.Equal(["default"], named.Tasks);
        Assert.Empty(ChannelTaskChoice.Choose(tasks, new BitErrorModel(1e-3), []).Tasks); // an explicit empty list too
        Assert.Null(ChannelTaskChoice.Choose([Default, Coarse], new BitErrorModel(1e-2), null).Chosen);
    }

    [Fact]
    public void Of_several_error_aware_tasks_the_one_trained_nearest_at_or_below_the_declared_rate_is_picked()
    {
        SplitTask[] tasks = [Default, ErrorAware("low", 1e-4), ErrorAware("high", 1e-3, 3e-3)];
        Assert.Equal("high", ChannelTaskChoice.Choose(tasks, new BitErrorModel(5e-3), null).Chosen);
        Assert.Equal("low", ChannelTaskChoice.Choose(tasks, new BitErrorModel(5e-4), null).Chosen);
        Assert.Equal("low", ChannelTaskChoice.Choose(tasks, new BitErrorModel(2e-5), null).Chosen); // none at or below: the lowest eligible
        Assert.Null(ChannelTaskChoice.Choose(tasks, new BitErrorModel(5e-6), null).Chosen);
    }

    [Fact]
    public void A_picked_task_the_server_does_not_serve_falls_back_to_the_default_task()
    {
        var choice = ChannelTaskChoice.Choose([Default, ErrorAware("noisy", 1e-3)], new BitErrorModel(1e-3), null);
        Assert.Same(choice, choice.ServedBy([new ServedTask("default", "classes", 1001), new ServedTask("noisy", "classes", 1001)]));
        Assert.Same(choice, choice.ServedBy([]));
        var fallback = choice.ServedBy([new ServedTask("default", "classes", 1001)]);
        Assert.Null(fallback.Chosen);
        Assert.Empty(fallback.Tasks);
        Assert.Contains("does not serve task 'noisy'", fallback.Reason);
    }

    [Fact]
    public void Trained_channels_survive_split_json_and_a_task_without_them_is_written_as_before()
    {
        var manifest = new SplitManifest().WithTasks([Default, ErrorAware("noisy", 1e-3)]);
        string json = manifest.ToJson();
        Assert.Contains("\"trained_channels\"", json);
        Assert.Equal(1, json.Split("trained_channels").Length - 1); // the default task has none and writes none
        var read = SplitManifest.FromJson(json).Tasks;
        Assert.Null(read[0].TrainedChannels);
        Assert.Equal(1e-3, read[1].TrainedChannels!.Single().Ber);
        Assert.Equal(64, read[1].TrainedChannels!.Single().BurstBits);

        foreach (string bad in (string[])["\"ber\": 0.7, \"burst_bits\": 0", "\"ber\": 0, \"burst_bits\": 0", "\"ber\": 1e-3, \"burst_bits\": 0.5"])
        {
            string hostile = json.Replace("\"ber\": 0.001,\n          \"burst_bits\": 64", bad, StringComparison.Ordinal);
            Assert.NotEqual(json, hostile);
            Assert.Throws<InvalidDataException>(() => SplitManifest.FromJson(hostile));
        }
        Assert.Throws<InvalidDataException>(() => SplitManifest.FromJson(json.Replace("\"trained_channels\": [", "\"trained_channels\": [null, ", StringComparison.Ordinal)));
    }
}
