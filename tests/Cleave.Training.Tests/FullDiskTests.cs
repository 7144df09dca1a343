using Cleave.Codecs.IO;
using Cleave.Models.Splitting;
using Cleave.Training.Data;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Cleave.Training.Loop;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>
/// A full disk while saving (issue 12's bad-input list), for real: a small tmpfs filled to ENOSPC. Each save must fail
/// with one clear, typed error and leave nothing half-written: the previous file whole, no temporary file behind.
/// </summary>
public sealed class FullDiskTests
{
    public FullDiskTests() => TorchRuntime.Initialise();

    private static SequentialLayer TinyCnn()
    {
        manual_seed(11);
        return new SequentialLayer(new Conv2dLayer(1, 8, 3, stride: 2), new ActivationLayer(), new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(8, 10));
    }

    [SmallDiskFact(NeedsFashionMnist = true)]
    public void A_checkpoint_that_meets_a_full_disk_fails_clearly_and_the_previous_one_stays_whole()
    {
        using var disk = new SmallDisk(512);
        var train = FashionMnist.Load(limit: 128);
        string checkpoint = Path.Combine(disk.Folder, "run.ckpt");
        var options = new TrainingOptions { Steps = 4, BatchSize = 16, Seed = 2, CheckpointPath = checkpoint, CheckpointEvery = 2 };
        using (var net = TinyCnn()) Trainer.Run(net, Objectives.CrossEntropy(net.forward), train, null, options);
        byte[] previous = File.ReadAllBytes(checkpoint);

        string filler = disk.FillUp();
        using var resumedNet = TinyCnn();
        var error = Assert.Throws<TrainingSaveException>(() => Trainer.Run(resumedNet, Objectives.CrossEntropy(resumedNet.forward), train, null,
            options with { Steps = 8, Resume = true }));

        Assert.True(error.DiskFull);
        Assert.Equal(6, error.Step); // resumed at 4, the next checkpoint (step 6) is the one that met the full disk
        Assert.Contains("disk is full", error.Message);
        Assert.Contains(checkpoint, error.Message);
        Assert.Equal(previous, File.ReadAllBytes(checkpoint));
        Assert.Equal(new[] { checkpoint, filler }.Order(), Directory.GetFiles(disk.Folder).Order());
    }

    [SmallDiskFact]
    public void A_split_folder_that_meets_a_full_disk_keeps_its_previous_files_and_gains_no_partial_one()
    {
        using var disk = new SmallDisk(512);
        string split = Path.Combine(disk.Folder, "split");
        ModelSplitter.Split(OnnxModuleTests.ResNetStyleModel(symbolicSize: false), ["block_out"], sourceName: "resnet_style.onnx").Save(split);
        string merged = Path.Combine(disk.Folder, "merged");
        manual_seed(2);
        using (var encoder = new Conv2dLayer(16, 16, 1)) SplitAttachment.Attach(split, merged, encoder, null);
        var before = Directory.GetFiles(merged).Order().Select(f => (f, File.ReadAllBytes(f))).ToList();

        disk.FillUp();
        using var retrained = new Conv2dLayer(16, 16, 1);
        var error = Assert.Throws<IOException>(() => SplitAttachment.Attach(split, merged, retrained, null));

        Assert.True(TrainingSaveException.IsDiskFull(error), error.Message);
        Assert.Equal(before, Directory.GetFiles(merged).Order().Select(f => (f, File.ReadAllBytes(f))));
    }

    [SmallDiskFact]
    public void Several_files_are_written_all_or_none_when_the_disk_fills_between_them()
    {
        // 256 KiB of space: the first file fits, the second cannot; neither may appear, nor any temporary file.
        using var disk = new SmallDisk(256);
        string folder = Path.Combine(disk.Folder, "out");
        string small = Path.Combine(folder, "head.onnx"), large = Path.Combine(folder, "tail.onnx"), manifest = Path.Combine(folder, "split.json");
        var error = Assert.Throws<IOException>(() => AtomicFile.WriteAll([(small, new byte[8192]), (large, new byte[1 << 20]), (manifest, new byte[100])]));

        Assert.True(TrainingSaveException.IsDiskFull(error), error.Message);
        Assert.Empty(Directory.GetFiles(folder));
        // With the space back, the same call writes all three.
        AtomicFile.WriteAll([(small, new byte[8192]), (large, new byte[100_000]), (manifest, new byte[100])]);
        Assert.Equal([small, manifest, large], Directory.GetFiles(folder).Order());
    }
}
