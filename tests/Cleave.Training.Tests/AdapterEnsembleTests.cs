using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Tests;
using Cleave.Training.Adapter;
using Cleave.Training.Data;
using Cleave.Training.Distillation;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>
/// Adapter ensembles (<see cref="AdapterOptions.Ensemble"/>): K members fused into one adapter that ONNX Runtime runs as
/// the members' mean, trained on real MobileNetV2 features; and mixed views for the adapter, whose shifted input and clean
/// target come from the same mixed view.
/// </summary>
public sealed class AdapterEnsembleTests : IDisposable
{
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private static readonly CameraShift Shift = CameraShift.Parse("blur=1,noise=3,gain=0.4,seed=1");
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-adapter-ensemble-").FullName;

    public AdapterEnsembleTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A member as training leaves it: random weights everywhere, the up projection no longer zero.</summary>
    private static ResidualLayer Member(long channels, long rank, int depth)
    {
        var member = ResidualAdapter.Create(channels, rank, depth);
        using (no_grad())
            foreach (var p in member.parameters()) p.normal_(0, 0.3);
        return member;
    }

    [Fact]
    public void The_fused_adapter_runs_in_ONNX_Runtime_as_the_mean_of_its_members()
    {
        manual_seed(3);
        var members = Enumerable.Range(0, 3).Select(_ => Member(16, 4, depth: 2)).ToList();
        using var x = randn(2, 16, 7, 9);
        using var branches = stack(members.Select(m => m.forward(x) - x).ToArray()).mean([0]);
        using var expected = x + branches;
        using var fused = AdapterEnsemble.Fuse(members);

        var model = LayerExport.ToModel(fused, [1, 16, 7, 9]);
        var ort = ParityModels.RunOrt(model, "input", [2, 16, 7, 9], x.data<float>().ToArray(), "output")["output"];
        Assert.True(ParityModels.MaxRelativeDifference(expected, ort) <= 1e-5);
        // One residual branch: one Add, down + two grouped 3x3 + up.
        Assert.Single(model.Graph.Nodes, n => n.OpType == "Add");
        var convs = model.Graph.Nodes.Where(n => n.OpType == "Conv").ToList();
        Assert.Equal(4, convs.Count);
        Assert.Equal([1L, 3, 3, 1], convs.Select(c => c.Proto.Attribute.Single(a => a.Name == "group").I));
        // Parameters: the members' sum less K-1 up biases (averaged into one); MACs: K times one member's.
        long memberParameters = members[0].parameters().Sum(p => p.numel());
        Assert.Equal(3 * memberParameters - 2 * 16, fused.parameters().Sum(p => p.numel()));
        Assert.Equal(3 * AdapterEnsemble.Macs(members[0], 7, 9), AdapterEnsemble.Macs(fused, 7, 9));
        Assert.Equal((16 * 4 + 2 * 4 * 4 * 9 + 4 * 16) * 63L, AdapterEnsemble.Macs(members[0], 7, 9));
        foreach (var m in members) m.Dispose();
    }

    [Fact]
    public void One_member_fuses_to_itself_and_bad_ensembles_are_refused()
    {
        manual_seed(4);
        using var member = Member(8, 4, depth: 1);
        using var alone = AdapterEnsemble.Fuse([member]);
        using var x = randn(1, 8, 5, 5);
        Assert.Equal(0, (alone.forward(x) - member.forward(x)).abs().max().item<float>(), 6);

        using var other = Member(8, 2, depth: 1);
        Assert.Throws<ArgumentException>(() => AdapterEnsemble.Fuse([]));
        Assert.Throws<ArgumentException>(() => AdapterEnsemble.Fuse([member, other]));
        Assert.Throws<ArgumentException>(() => AdapterEnsemble.Fuse(Enumerable.Repeat(member, AdapterEnsemble.MaxMembers + 1).ToList()));
        // The trainer refuses before it reads a file.
        LabelledImage[] images = [new("a.jpg", 0), new("b.jpg", 1)];
        foreach (var bad in new[]
        {
            new AdapterOptions { Ensemble = 0 }, new AdapterOptions { Ensemble = AdapterEnsemble.MaxMembers + 1 },
            new AdapterOptions { Ensemble = 2, Mode = AdapterMode.Head }, new AdapterOptions { ViewMix = ViewMix.Mixup },
        })
            Assert.Throws<ArgumentException>(() => AdapterTrainer.Train("missing", "missing.onnx", images, Shift, Path.Combine(_folder, "x"), bad));
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void An_ensemble_trains_K_members_and_ships_one_adapter_of_K_times_the_rank()
    {
        var mnv2 = MobileNetV2Split.Create(_folder, Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(6).ToList();
        var options = new AdapterOptions { Loss = AdapterLoss.Feature, Rank = 4, Epochs = 1, BatchSize = 4, ValidationFraction = 0.34, MaxSteps = 2 };
        var single = AdapterTrainer.Train(mnv2.SplitFolder, mnv2.ModelPath, images, Shift, Path.Combine(_folder, "one"), options);
        string output = Path.Combine(_folder, "three");
        var three = AdapterTrainer.Train(mnv2.SplitFolder, mnv2.ModelPath, images, Shift, output, options with { Ensemble = 3 });

        Assert.Equal((1, 3), (single.Members, three.Members));
        Assert.Equal(3 * single.Steps, three.Steps);
        Assert.Equal(3 * single.TrainableParameters, three.TrainableParameters);
        Assert.Equal(3 * single.AdapterParameters - 2 * 32, three.AdapterParameters);
        Assert.Equal(3 * single.AdapterMacs, three.AdapterMacs);
        Assert.Equal(["adapter", "member 1/3", "member 2/3", "member 3/3", "ensemble"], three.Epochs.Select(e => e.Stage));
        Assert.False(double.IsNaN(three.Epochs[^1].ValidationTop1));
        Assert.NotEqual(single.ManifestHash, three.ManifestHash);
        Assert.Equal(File.ReadAllBytes(Path.Combine(mnv2.SplitFolder, "tail.onnx")), File.ReadAllBytes(Path.Combine(output, "tail.onnx")));
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void A_mixed_views_shifted_input_and_clean_target_come_from_the_same_mixed_view()
    {
        var mnv2 = MobileNetV2Split.Create(_folder, Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(2).ToList();
        var views = new RandomViews(1, Seed: 1, Mix: ViewMix.Mixup);
        var shifted = CutFeatureCache.Build(mnv2.Split.Head, Cut, null, images, mnv2.Spec, featureShift: Shift, views: views, cleanFeatures: true);
        var unshifted = CutFeatureCache.Build(mnv2.Split.Head, Cut, null, images, mnv2.Spec, views: views);
        var unmixed = CutFeatureCache.Build(mnv2.Split.Head, Cut, null, images, mnv2.Spec, views: new RandomViews(1, Seed: 1));

        int n = (int)shifted.SampleElements;
        Assert.Equal(unshifted.Features, shifted.CleanFeatures);
        Assert.NotEqual(shifted.Features.AsSpan(n, n).ToArray(), shifted.CleanFeatures.AsSpan(n, n).ToArray());
        // Sample 1 is image 0's view: mixed, so not the unmixed view's cut.
        Assert.NotEqual(unmixed.Features.AsSpan(n, n).ToArray(), unshifted.Features.AsSpan(n, n).ToArray());
    }
}
