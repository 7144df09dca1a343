using Cleave.Codecs;
using Cleave.Runtime.Generation;
using Xunit.Abstractions;

namespace Cleave.Cluster.Tests;

/// <summary>
/// Language-model sessions as grains across three silos, driven by real gRPC clients on loopback: a silo is killed
/// in the middle of generation, and every session still ends with exactly the local greedy output.
/// </summary>
public sealed class SessionFailoverTests(ITestOutputHelper output)
{
    private const int K = 2;

    /// <summary>Sessions in the test (16 via CLEAVE_CLUSTER_SESSIONS=16; 8 keeps the suite's share small on 2 cores).</summary>
    private static int Sessions => int.TryParse(Environment.GetEnvironmentVariable("CLEAVE_CLUSTER_SESSIONS"), out int n) && n > 0 ? n : 8;

    [StoriesFact]
    public async Task Killing_a_silo_mid_generation_loses_no_token_and_changes_no_output()
    {
        const int newTokens = 48;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _ = StoriesModel.Model;
        var imported = clock.Elapsed;
        await using var cluster = await ClusterFixture.StartAsync(3, StoriesModel.Options(K));
        var deployed = clock.Elapsed;
        var addresses = cluster.Silos.Select(ClusterFixture.FrontEnd).ToArray();
        using var head = StoriesModel.Head(K);
        var config = StoriesModel.Model.Config;
        string[] starts = ["Once upon a time", "Tim and his dog", "The sun was hot", "Lily had a red ball", "One day a little bird", "Sam wanted to play"];
        int sessions = Sessions;
        var prompts = Enumerable.Range(0, sessions).Select(i => StoriesModel.Model.Tokenizer.Encode(starts[i % starts.Length], bos: true)).ToArray();

        // The silo to kill is chosen once every session has made some progress: the non-primary silo holding the most.
        int produced = 0;
        var killPoint = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clients = new List<GenerationClient>();
        var runs = new List<Task<SplitGenerationResult>>();
        for (int i = 0; i < sessions; i++)
        {
            var client = new GenerationClient(addresses, first: i);
            clients.Add(client);
            var generator = new SplitGenerator(head, config, K, TokenStreamCodec.ForSender("raw", config.Dim, () => []), client)
            {
                OnToken = _ => { if (Interlocked.Increment(ref produced) == sessions * 8) killPoint.TrySetResult(); },
            };
            var prompt = prompts[i];
            runs.Add(Task.Run(() => generator.GenerateAsync(prompt, newTokens)));
        }

        await killPoint.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var victim = cluster.Silos.Skip(1).MaxBy(s => ClusterFixture.Counters(s).Active)!;
        long heldByVictim = ClusterFixture.Counters(victim).Active;
        var killedAt = clock.Elapsed;
        await cluster.KillSiloAsync(victim);
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(120));
        var survivors = cluster.Silos.Where(s => s != victim).Select(ClusterFixture.Counters).ToArray();
        long resumes = results.Sum(r => r.Resumes), replayed = survivors.Sum(c => c.ReplayedTokens);
        output.WriteLine($"{sessions} sessions x {newTokens} tokens on 3 silos; killed a silo holding {heldByVictim}; " +
            $"resumes {resumes}, replayed tokens {replayed}, steps answered from the last response {survivors.Sum(c => c.RetriedSteps)}, " +
            $"client failovers {clients.Sum(c => c.Failovers)}; {(clock.Elapsed - killedAt).TotalSeconds:0.0} s from the kill to the last token " +
            $"(model import {imported.TotalSeconds:0.0} s, cluster start {(deployed - imported).TotalSeconds:0.0} s, generation before the kill {(killedAt - deployed).TotalSeconds:0.0} s)");

        for (int i = 0; i < sessions; i++)
            Assert.Equal(StoriesModel.LocalGreedy(prompts[i], newTokens), results[i].GeneratedTokens);
        Assert.True(heldByVictim > 0, "the killed silo held no session: nothing was tested");
        Assert.True(resumes >= heldByVictim, $"{heldByVictim} sessions lived on the killed silo, {resumes} resumed");
        Assert.True(replayed > 0);
        foreach (var client in clients) client.Dispose();
    }
}
