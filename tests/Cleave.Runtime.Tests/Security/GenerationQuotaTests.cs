using Cleave.Codecs;
using Cleave.Models.Text;
using Cleave.Runtime.Client;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving.Security;
using Cleave.Runtime.Tests.Generation;

namespace Cleave.Runtime.Tests.Security;

/// <summary>`serve-lm` applies the per-caller quotas of split inference to Open and Step, answered in-band with SERVER_BUSY.</summary>
public sealed class GenerationQuotaTests
{
    private const int K = 2;

    [StoriesFact]
    public async Task A_caller_over_its_quota_gets_server_busy_with_a_hint_while_another_callers_session_carries_on()
    {
        string keyFile = Path.Combine(Path.GetTempPath(), $"cleave-keys-{Guid.NewGuid():N}");
        try
        {
            // One call per 2 s, no burst beyond it: the Open takes the only token, the Step right after it is refused.
            string greedy = ApiKeyFile.Add(keyFile, "greedy", ClientQuota.Parse("rate=0.5,burst=1"));
            string modest = ApiKeyFile.Add(keyFile, "modest");
            await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K), security: new ServerSecurityOptions { ApiKeyFile = keyFile });
            int[] prompt = StoriesModel.Model.Tokenizer.Encode("Tim and his dog", bos: true);

            using var greedyClient = new GenerationClient(server.Address, new ClientCredentials { ApiKey = greedy });
            using var headModel = StoriesModel.Head(K);
            using var head = new KvCacheSession(headModel);
            var opened = await greedyClient.OpenAsync(StoriesModel.Open(K));
            Assert.Null(opened.Error);
            var step = StoriesModel.Step(opened.SessionId, 0, StoriesModel.RawChunk(head, prompt));
            var refused = await greedyClient.StepAsync(step);
            Assert.NotNull(refused.Error);
            Assert.Equal(GenerationErrorCode.ServerBusy, refused.Error.Code);
            Assert.InRange(refused.Error.RetryAfterMs, 1u, 2_000u);

            // The other key is not held back by the first one's quota: a whole generation, token for token right.
            using var modestClient = new GenerationClient(server.Address, new ClientCredentials { ApiKey = modest });
            var codec = TokenStreamCodec.ForSender("raw", StoriesModel.Model.Config.Dim, () => []);
            var result = await new SplitGenerator(headModel, StoriesModel.Model.Config, K, codec, modestClient).GenerateAsync(prompt, 8);
            Assert.Equal(StoriesModel.LocalGreedy(prompt, 8), result.GeneratedTokens);

            // The refusal cost the greedy caller nothing but time: after the hint its session takes the same step.
            await Task.Delay(TimeSpan.FromMilliseconds(refused.Error.RetryAfterMs + 100));
            var answered = await greedyClient.StepAsync(step);
            Assert.Null(answered.Error);
            Assert.Equal(result.GeneratedTokens[0], answered.Token);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }
}
