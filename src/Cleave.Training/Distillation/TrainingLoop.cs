using System.Diagnostics;
using Cleave.Training.Loop;

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
