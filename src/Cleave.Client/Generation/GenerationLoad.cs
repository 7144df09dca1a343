using System.Diagnostics;

namespace Cleave.Runtime.Generation;

/// <summary>Many generation sessions against one server, all at once or one after another, with the aggregate rate.</summary>
public static class GenerationLoad
{
    public sealed record Outcome(IReadOnlyList<SplitGenerationResult> Sessions, TimeSpan Elapsed)
    {
        public int GeneratedTokens => Sessions.Sum(s => s.GeneratedTokens.Length);
        /// <summary>Tokens through the server per second: every step's token (the prefill's included).</summary>
        public double TokensPerSecond => Sessions.Sum(s => s.Steps) / Math.Max(Elapsed.TotalSeconds, 1e-9);
    }

    /// <param name="generate">Runs session i to the end.</param>
    public static async Task<Outcome> RunAsync(int sessions, Func<int, Task<SplitGenerationResult>> generate, bool concurrent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sessions, 1);
        ArgumentNullException.ThrowIfNull(generate);
        long start = Stopwatch.GetTimestamp();
        var results = new SplitGenerationResult[sessions];
        if (concurrent)
        {
            var tasks = new Task<SplitGenerationResult>[sessions];
            for (int i = 0; i < sessions; i++)
            {
                int index = i;
                tasks[i] = Task.Run(() => generate(index));
            }
            await Task.WhenAll(tasks).ConfigureAwait(false);
            for (int i = 0; i < sessions; i++) results[i] = tasks[i].Result;
        }
        else
        {
            for (int i = 0; i < sessions; i++) results[i] = await generate(i).ConfigureAwait(false);
        }
        return new Outcome(results, Stopwatch.GetElapsedTime(start));
    }
}
