using System.Diagnostics;
using Cleave.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Distillation;

/// <summary>Seeded minibatches, the process's memory and a guard against diverging losses, shared by the trainers here.</summary>
public static class TrainingLoop
{
    /// <summary>The sample indices of one epoch in batches, shuffled by <paramref name="random"/>.</summary>
    public static List<long[]> Batches(int count, int batch, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        var batches = new List<long[]>();
        for (int start = 0; start < count; start += batch)
            batches.Add([.. order.Skip(start).Take(batch).Select(i => (long)i)]);
        return batches;
    }

    /// <summary>
    /// Trains <paramref name="module"/> on <paramref name="count"/> cached samples: AdamW with a cosine learning rate
    /// from <paramref name="learningRate"/> to zero, one pass over seeded, shuffled batches per epoch. <paramref name="loss"/>
    /// gives a batch's loss from its sample indices (inside the batch's dispose scope); <paramref name="epochDone"/> hears each
    /// epoch's mean loss. Returns the first and the last epoch's mean loss; the module is left in evaluation mode.
    /// </summary>
    public static (double First, double Last) RunEpochs(nn.Module module, int count, int epochs, int batchSize, double learningRate, double weightDecay, int seed,
        Func<Tensor, Tensor> loss, Action<int, double>? epochDone = null)
    {
        using var optimizer = optim.AdamW(module.parameters(), learningRate, weight_decay: weightDecay);
        var random = new Random(seed);
        int stepsPerEpoch = (count + batchSize - 1) / batchSize;
        long total = (long)stepsPerEpoch * epochs, step = 0;
        double first = double.NaN, last = double.NaN;
        module.train();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            double sum = 0;
            int batches = 0;
            foreach (var batch in Batches(count, batchSize, random))
            {
                using var scope = NewDisposeScope();
                double rate = learningRate * 0.5 * (1 + Math.Cos(Math.PI * step / total));
                foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
                using var index = tensor(batch);
                double value = Step(loss(index), optimizer, null, step);
                sum += value;
                batches++;
                step++;
            }
            double mean = sum / Math.Max(1, batches);
            if (epoch == 0) first = mean;
            last = mean;
            epochDone?.Invoke(epoch, mean);
        }
        module.eval();
        return (first, last);
    }

    /// <summary>
    /// One optimizer step on <paramref name="loss"/>: checks it is finite before anything changes (<see cref="CheckFinite"/>),
    /// then backward, the optimizer's step and the schedule's. Returns the loss's value.
    /// </summary>
    public static double Step(Tensor loss, optim.Optimizer optimizer, optim.lr_scheduler.LRScheduler? schedule, long step)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        double value = loss.item<float>();
        CheckFinite(value, step);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        schedule?.step();
        return value;
    }

    /// <summary>Resident set size now (bytes).</summary>
    public static long RssBytes()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64;
    }

    /// <summary>Peak resident set size of this process so far (bytes; VmHWM on Linux).</summary>
    public static long PeakRssBytes()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.PeakWorkingSet64;
    }

    /// <summary>Throws <see cref="TrainingDivergedException"/> when a loss is NaN or infinite: nothing is exported from that state.</summary>
    public static void CheckFinite(double loss, long step)
    {
        if (!double.IsFinite(loss)) throw new TrainingDivergedException(step, loss);
    }

    /// <summary>A train/validation split of <paramref name="count"/> items by a seeded shuffle (validation at least 1 when the fraction is positive).</summary>
    public static (int[] Train, int[] Validation) Split(int count, double validationFraction, int seed)
    {
        if (!(validationFraction is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "must be in [0, 1)");
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        int validation = validationFraction == 0 ? 0 : Math.Clamp((int)Math.Round(count * validationFraction), 1, count - 1);
        return ([.. order.Skip(validation).Order()], [.. order.Take(validation).Order()]);
    }
}
