using System.Diagnostics;
using Cleave.Codecs.IO;
using Cleave.Training.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cleave.Training.Loop;

/// <summary>
/// A seeded, deterministic training loop: batches from a <see cref="BatchLoader"/>, AdamW or SGD with a cosine
/// schedule, atomic checkpoints (model, optimizer state, step) and resume, NaN detection, validation, progress.
/// </summary>
public static class Trainer
{
    private const uint CheckpointMagic = 0x4B43564C; // "LVCK"
    private const int CheckpointVersion = 1;

    public static TrainingSummary Run(nn.Module module, TrainingObjective objective, IExampleSet train, IExampleSet? validation,
        TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.Initialise();
        if (train.Count == 0) throw new ArgumentException("the training set has no examples");

        var parameters = module.parameters().Where(p => p.requires_grad).ToList();
        if (parameters.Count == 0) throw new ArgumentException("the module has no trainable parameters");
        using var optimizer = CreateOptimizer(parameters, options);
        var loader = new BatchLoader(train, options.BatchSize, options.Seed, options.Augmentation);

        long start = 0;
        if (options.Resume && options.CheckpointPath is { } resumePath && File.Exists(resumePath))
            start = LoadCheckpoint(resumePath, module, optimizer, options);

        var clock = Stopwatch.StartNew();
        var losses = new List<double>();
        long correct = 0, seen = 0;
        module.train();
        for (long step = start; step < options.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            double rate = options.LearningRateAt(step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
            double lossValue;
            using (var scope = NewDisposeScope())
            {
                var (inputs, labels) = loader.TrainingBatch(step);
                optimizer.zero_grad();
                var (loss, logits) = objective(inputs, labels);
                lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue)) throw new TrainingDivergedException(step, lossValue);
                loss.backward();
                optimizer.step();
                if (logits is not null && labels is not null)
                {
                    correct += logits.argmax(-1).eq(labels).sum().item<long>();
                    seen += labels.shape[0];
                }
            }
            losses.Add(lossValue);
            long done = step + 1 - start;
            var elapsed = clock.Elapsed;
            progress?.Report(new TrainingProgress(step + 1, options.Steps, Smoothed(losses), seen > 0 ? (double)correct / seen : null, rate,
                elapsed, TimeSpan.FromTicks(elapsed.Ticks / done * (options.Steps - step - 1))));
            if (options.CheckpointPath is { } path && ((step + 1) % options.CheckpointEvery == 0 || step + 1 == options.Steps))
                SaveCheckpoint(path, module, optimizer, step + 1);
        }

        double? validationLoss = null, validationAccuracy = null;
        if (validation is { Count: > 0 })
            (validationLoss, validationAccuracy) = Evaluate(module, objective, validation, options.BatchSize);
        int tenth = Math.Max(1, losses.Count / 10);
        return new TrainingSummary
        {
            Steps = options.Steps,
            ResumedFromStep = start,
            FirstLoss = losses.Count == 0 ? double.NaN : losses.Take(tenth).Average(),
            LastLoss = losses.Count == 0 ? double.NaN : losses.TakeLast(tenth).Average(),
            TrainAccuracy = seen > 0 ? (double)correct / seen : null,
            ValidationLoss = validationLoss,
            ValidationAccuracy = validationAccuracy,
            TrainExamples = train.Count,
            ValidationExamples = validation?.Count ?? 0,
            Seconds = clock.Elapsed.TotalSeconds,
            LossHistory = losses,
        };
    }

    /// <summary>Mean loss and accuracy (when the objective gives logits and the data labels) in inference mode.</summary>
    public static (double Loss, double? Accuracy) Evaluate(nn.Module module, TrainingObjective objective, IExampleSet data, int batchSize)
    {
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var _ = no_grad();
            double total = 0;
            long correct = 0, count = 0, labelled = 0;
            foreach (var (inputs, labels) in new BatchLoader(data, batchSize, seed: 0).InOrder())
            {
                using var scope = NewDisposeScope();
                var (loss, logits) = objective(inputs, labels);
                long n = inputs.shape[0];
                total += loss.item<float>() * n;
                count += n;
                if (logits is not null && labels is not null)
                {
                    correct += logits.argmax(-1).eq(labels).sum().item<long>();
                    labelled += n;
                }
                inputs.Dispose();
                labels?.Dispose();
            }
            return (total / Math.Max(1, count), labelled > 0 ? (double)correct / labelled : null);
        }
        finally
        {
            module.train(wasTraining);
        }
    }

    private static double Smoothed(List<double> losses)
    {
        int n = Math.Min(20, losses.Count);
        double sum = 0;
        for (int i = losses.Count - n; i < losses.Count; i++) sum += losses[i];
        return sum / n;
    }

    private static OptimizerHelper CreateOptimizer(IReadOnlyList<Parameter> parameters, TrainingOptions options) => options.Optimizer switch
    {
        OptimizerKind.Sgd => optim.SGD(parameters, options.LearningRate, options.Momentum, weight_decay: options.WeightDecay),
        _ => optim.AdamW(parameters, options.LearningRate, weight_decay: options.WeightDecay),
    };

    /// <summary>
    /// Writes model weights, optimizer state and the step into a temporary file beside <paramref name="path"/>, then
    /// renames it over the old checkpoint: a full disk or a crash leaves the previous checkpoint whole.
    /// </summary>
    private static void SaveCheckpoint(string path, nn.Module module, OptimizerHelper optimizer, long step)
    {
        try
        {
            AtomicFile.Write(path, stream =>
            {
                using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                writer.Write(CheckpointMagic);
                writer.Write(CheckpointVersion);
                writer.Write(step);
                module.save(writer);
                optimizer.save_state_dict(writer);
                writer.Flush();
            });
        }
        catch (IOException e)
        {
            throw new TrainingSaveException(path, step, e);
        }
    }

    private static long LoadCheckpoint(string path, nn.Module module, OptimizerHelper optimizer, TrainingOptions options)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        try
        {
            if (reader.ReadUInt32() != CheckpointMagic || reader.ReadInt32() != CheckpointVersion)
                throw new InvalidDataException($"'{path}' is not a Cleave training checkpoint");
            long step = reader.ReadInt64();
            if (step < 0 || step > options.Steps) throw new InvalidDataException($"checkpoint '{path}' is at step {step}, outside this run's {options.Steps} steps");
            module.load(reader);
            optimizer.load_state_dict(reader);
            return step;
        }
        catch (EndOfStreamException e) { throw new InvalidDataException($"checkpoint '{path}' is truncated", e); }
        catch (ArgumentException e) { throw new InvalidDataException($"checkpoint '{path}' does not fit this model: {e.Message}", e); }
    }
}
