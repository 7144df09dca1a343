using Cleave.Codecs;
using Cleave.Runtime.Client;
using Cleave.Runtime.Generation;

namespace Cleave.Runtime.Tests.Generation;

/// <summary>
/// The generation server stopped mid-session and a new one started on its port (issue 13, item 7): the client backs
/// off, reconnects and resumes by replaying its history, so greedy output equals local greedy; a server that never
/// comes back ends the session with <see cref="GenerationUnavailableException"/>, nothing else.
/// </summary>
public sealed class GenerationRestartTests
{
    private const int SplitLayer = 2;

    private static TokenStreamCodec Raw => TokenStreamCodec.ForSender("raw", StoriesModel.Model.Config.Dim, () => throw new InvalidOperationException("raw needs no calibration"));

    [StoriesFact]
    public async Task Sessions_across_a_server_restart_resume_from_history_and_equal_local_greedy()
    {
        string[] texts = ["", "Tim and his dog", "The sun was hot", "Lily had a red ball"];
        var prompts = texts.Select(t => StoriesModel.Model.Tokenizer.Encode(t, bos: true)).ToArray();
        var expected = prompts.Select(p => StoriesModel.LocalGreedy(p, 40)).ToArray();
        var server = await GenerationServer.StartAsync(StoriesModel.Options(SplitLayer));
        int port = server.Address.Port;
        try
        {
            using var client = new GenerationClient(server.Address);
            using var head = StoriesModel.Head(SplitLayer);
            var restarted = new TaskCompletionSource<GenerationServer>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var firstTokens = new CountdownEvent(prompts.Length);
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Every session pauses after its tenth token until the server has been stopped, so all of them span the restart.
            var sessions = prompts.Select((prompt, i) => Task.Run(async () =>
            {
                int tokens = 0;
                var generator = new SplitGenerator(head, StoriesModel.Model.Config, SplitLayer, Raw, client)
                {
                    Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(60) },
                    OnToken = _ =>
                    {
                        if (++tokens != 10) return;
                        firstTokens.Signal();
                        stop.Task.Wait(TimeSpan.FromSeconds(60));
                    },
                };
                return await generator.GenerateAsync(prompt, 40);
            })).ToArray();

            Assert.True(firstTokens.Wait(TimeSpan.FromSeconds(60)), "every session reached its tenth token");
            await server.DisposeAsync();
            stop.SetResult(); // the sessions now step into a stopped server, and retry until the new one is up
            await Task.Delay(300);
            server = await GenerationServer.StartAsync(StoriesModel.Options(SplitLayer), port);
            var results = await Task.WhenAll(sessions).WaitAsync(TimeSpan.FromSeconds(90));

            for (int i = 0; i < prompts.Length; i++)
            {
                Assert.Equal(expected[i], results[i].GeneratedTokens);
                Assert.True(results[i].Resumes >= 1, $"session {i} resumed into the new server");
                Assert.True(results[i].Reconnects >= 1, $"session {i} retried while the server was down");
            }
            Assert.Equal(0, server.Engine.OpenSessions); // each resumed session was closed at its end
        }
        finally { await server.DisposeAsync(); }
    }

    [StoriesFact]
    public async Task A_server_that_never_comes_back_ends_the_session_with_one_typed_error()
    {
        var server = await GenerationServer.StartAsync(StoriesModel.Options(SplitLayer));
        using var client = new GenerationClient(server.Address);
        using var head = StoriesModel.Head(SplitLayer);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var generator = new SplitGenerator(head, StoriesModel.Model.Config, SplitLayer, Raw, client)
        {
            Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(1.5) },
            OnToken = _ =>
            {
                if (stopped.Task.IsCompleted) return;
                server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30));
                stopped.SetResult();
            },
        };

        var failure = await Assert.ThrowsAsync<GenerationUnavailableException>(() => generator.GenerateAsync(StoriesModel.Model.Tokenizer.Encode("", bos: true), 40));

        Assert.Contains("did not come back", failure.Message, StringComparison.Ordinal);
    }
}
