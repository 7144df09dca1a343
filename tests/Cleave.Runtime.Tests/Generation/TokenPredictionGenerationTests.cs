using Cleave.Codecs;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Google.Protobuf;

namespace Cleave.Runtime.Tests.Generation;

/// <summary>
/// <c>tq:...,predict=token</c> over a real loopback server: steps after a server-sampled token are predicted from it
/// (the split's table predict_2.bin), the table's hash is checked at Open, and a client cannot make the server take an
/// input token it did not sample.
/// </summary>
public sealed class TokenPredictionGenerationTests
{
    private const int K = 2;
    private const string Spec = "tq:levels=7,clip=3.6,predict=token";

    /// <summary>The shared test folder's table for k = 2, written once (atomically: servers of other tests may be starting).</summary>
    private static readonly Lazy<TokenPredictionTable> Table = new(() => TokenPredictionTableFile.Write(StoriesModel.Model, K, tokens: 2048));

    private static TokenStreamCodec Codec()
    {
        _ = Table.Value;
        var model = StoriesModel.Model;
        return TokenPredictionTableFile.SenderCodec(Spec, model, K, () => TokenCodecCalibration.SelfGeneratedRows(model, K, tokens: 512));
    }

    /// <summary>A server folder with the model's config and tail_2 only (no table unless written), so the shared folder stays as it is.</summary>
    private static string ServerFolder(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cleave-tokpred-{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        foreach (string file in new[] { LlamaModelConfig.FileName, Llama2cExport.TailFile(K) })
            File.Copy(Path.Combine(StoriesModel.Model.Directory, file), Path.Combine(dir, file), overwrite: true);
        File.Delete(TokenPredictionTableFile.PathOf(dir, K));
        return dir;
    }

    [StoriesFact]
    public async Task Predicted_steps_generate_over_a_loopback_server_repeatably_in_fewer_bits_than_plain_tq()
    {
        var model = StoriesModel.Model;
        var codec = Codec();
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K));
        using var client = new GenerationClient(server.Address);
        using var head = StoriesModel.Head(K);
        int[] prompt = model.Tokenizer.Encode("Tim and his dog", bos: true);

        var first = await new SplitGenerator(head, model.Config, K, codec, client).GenerateAsync(prompt, 48);
        var second = await new SplitGenerator(head, model.Config, K, codec, client).GenerateAsync(prompt, 48);
        var plain = TokenStreamCodec.ForSender("tq:levels=16,clip=4", model.Config.Dim, () => TokenCodecCalibration.SelfGenerated(model, K, tokens: 512));
        var plainRun = await new SplitGenerator(head, model.Config, K, plain, client).GenerateAsync(prompt, 48);
        // With client sampling the server knows no input token: every step goes plain, and is larger.
        var clientSampled = await new SplitGenerator(head, model.Config, K, codec, client).GenerateAsync(prompt, 48, clientSamples: true);

        Assert.Equal(48, first.GeneratedTokens.Length);
        Assert.Equal(first.GeneratedTokens, second.GeneratedTokens);
        Assert.Equal(first.UplinkPayloadBytes, second.UplinkPayloadBytes);
        Assert.True(first.SessionStateBytes < 48, $"{first.SessionStateBytes} B of session state");
        Assert.True(first.UplinkMessageBitsPerToken < plainRun.UplinkMessageBitsPerToken - 60,
            $"predicted {first.UplinkMessageBitsPerToken:F1} vs plain tq {plainRun.UplinkMessageBitsPerToken:F1} bits per token (whole step messages)");
        Assert.True(clientSampled.UplinkPayloadBytes > first.UplinkPayloadBytes * 3 / 2,
            $"client-sampled {clientSampled.UplinkPayloadBytes} B vs predicted {first.UplinkPayloadBytes} B");
        // The same codec in process (no gRPC) produces the same tokens: the server decodes what the client meant.
        using var engine = new GenerationEngine(StoriesModel.Options(K));
        var local = await new SplitGenerator(head, model.Config, K, codec, new InProcessGenerationTransport(engine)).GenerateAsync(prompt, 48);
        Assert.Equal(first.GeneratedTokens, local.GeneratedTokens);
    }

    [StoriesFact]
    public async Task An_evicted_predicted_session_resumes_from_its_history_to_the_same_tokens()
    {
        var model = StoriesModel.Model;
        var codec = Codec();
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K) with { KvCapBytes = 48 * 768 });
        using var client = new GenerationClient(server.Address);
        using var head = StoriesModel.Head(K);
        int[] prompt = model.Tokenizer.Encode("Tim and his dog", bos: true);
        var undisturbed = await new SplitGenerator(head, model.Config, K, codec, client).GenerateAsync(prompt, 30);

        var raw = TokenStreamCodec.ForSender("raw", model.Config.Dim, () => []);
        var intruder = new SplitGenerator(head, model.Config, K, raw, client);
        int seen = 0;
        var victim = new SplitGenerator(head, model.Config, K, codec, client)
        {
            // After a few predicted steps another session takes the whole cache: the victim's history then holds
            // predicted chunks, which the server decodes again from the tokens it samples again while rebuilding.
            OnToken = _ =>
            {
                if (++seen == 10) intruder.GenerateAsync(model.Tokenizer.Encode("The sun was hot", bos: true), 40).GetAwaiter().GetResult();
            },
        };
        var resumed = await victim.GenerateAsync(prompt, 30);

        Assert.Equal(1, resumed.Resumes);
        Assert.Equal(undisturbed.GeneratedTokens, resumed.GeneratedTokens);
    }

    [StoriesFact]
    public async Task Open_refuses_a_session_whose_table_differs_from_the_servers_or_a_server_without_one()
    {
        var model = StoriesModel.Model;
        var codec = Codec();
        var rows = TokenCodecCalibration.SelfGeneratedRows(model, K, tokens: 512, seed: 5);
        var otherTable = TokenPredictionTable.Fit(rows.Hidden, rows.InputTokens, model.Config.VocabSize, model.Config.Dim);
        var foreign = TokenStreamCodec.ForPredictingSender(Spec, otherTable, rows.Hidden, rows.InputTokens);
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K));
        using var client = new GenerationClient(server.Address);

        OpenSessionRequest Open(TokenStreamCodec c)
        {
            var request = StoriesModel.Open(K, c.Spec);
            request.CodecState = ByteString.CopyFrom(c.SessionState);
            return request;
        }
        Assert.Null((await client.OpenAsync(Open(codec))).Error);
        var mismatch = await client.OpenAsync(Open(foreign));
        Assert.Equal(GenerationErrorCode.ModelMismatch, mismatch.Error?.Code);
        Assert.Contains("token prediction table", mismatch.Error!.Message, StringComparison.Ordinal);

        await using var bare = await GenerationServer.StartAsync(new GenerationOptions { ModelDirectory = ServerFolder("bare"), SplitLayer = K });
        using var bareClient = new GenerationClient(bare.Address);
        var none = await bareClient.OpenAsync(Open(codec));
        Assert.Equal(GenerationErrorCode.ModelMismatch, none.Error?.Code);
        Assert.Contains(TokenPredictionTableFile.FileName(K), none.Error!.Message, StringComparison.Ordinal);
    }

    [StoriesFact]
    public async Task A_step_claiming_a_prediction_from_a_token_the_server_did_not_sample_is_a_bad_request()
    {
        var model = StoriesModel.Model;
        var codec = Codec();
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K));
        using var client = new GenerationClient(server.Address);
        using var headModel = StoriesModel.Head(K);
        using var head = new KvCacheSession(headModel);

        async Task<OpenSessionResponse> OpenAsync(bool clientSamples)
        {
            var request = StoriesModel.Open(K, codec.Spec);
            request.CodecState = ByteString.CopyFrom(codec.SessionState);
            request.Sampling = new Sampling { ClientSamples = clientSamples };
            return await client.OpenAsync(request);
        }
        StepRequest Step(string id, uint position, byte[] payload) => new() { SessionId = id, Position = position, Tokens = 1, Payload = ByteString.CopyFrom(payload) };

        // The prompt (BOS) claimed as predicted: the server sampled nothing yet.
        var open = await OpenAsync(clientSamples: false);
        float[] bos = head.Run([Llama2cTokenizer.Bos]);
        var claimed = await client.StepAsync(Step(open.SessionId, 0, codec.Encode(bos, Llama2cTokenizer.Bos)));
        Assert.Equal(GenerationErrorCode.BadRequest, claimed.Error?.Code);
        Assert.Contains("did not sample", claimed.Error!.Message, StringComparison.Ordinal);
        // Nothing ran: the plain prompt step is still at position 0, and the step after the sampled token may be predicted.
        var first = await client.StepAsync(Step(open.SessionId, 0, codec.Encode(bos)));
        Assert.Null(first.Error);
        float[] next = head.Run([first.Token]);
        var predicted = await client.StepAsync(Step(open.SessionId, 1, codec.Encode(next, first.Token)));
        Assert.Null(predicted.Error);

        // A client-sampled session: the server never knows the input token.
        var sampledByClient = await OpenAsync(clientSamples: true);
        head.Reset();
        var prefill = await client.StepAsync(Step(sampledByClient.SessionId, 0, codec.Encode(head.Run([Llama2cTokenizer.Bos]))));
        Assert.Null(prefill.Error);
        int token = prefill.TopLogits[0].Token;
        var refused = await client.StepAsync(Step(sampledByClient.SessionId, 1, codec.Encode(head.Run([token]), token)));
        Assert.Equal(GenerationErrorCode.BadRequest, refused.Error?.Code);
    }

    [StoriesFact]
    public void Truncated_or_oversized_tables_are_typed_errors_for_the_server_and_the_client()
    {
        byte[] table = Table.Value.Serialize();
        string dir = ServerFolder("hostile");
        string path = TokenPredictionTableFile.PathOf(dir, K);
        foreach (var (bytes, error) in new[]
        {
            (table[..^1], FrameError.Truncated),
            (table[..8], FrameError.Truncated),
            ([.. table, 0], FrameError.TrailingBytes),
        })
        {
            File.WriteAllBytes(path, bytes);
            Assert.Equal(error, Assert.Throws<FrameFormatException>(() => TokenPredictionTableFile.Read(path)).Error);
            Assert.Equal(error, Assert.Throws<FrameFormatException>(() => new GenerationEngine(new GenerationOptions { ModelDirectory = dir, SplitLayer = K })).Error);
        }
        File.Delete(path);
        Assert.Throws<FileNotFoundException>(() => TokenPredictionTableFile.Read(path));
    }
}
