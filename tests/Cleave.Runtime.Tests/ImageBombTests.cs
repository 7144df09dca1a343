using System.Buffers.Binary;
using Cleave.Models.Preprocessing;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using SkiaSharp;
using Xunit.Abstractions;

namespace Cleave.Runtime.Tests;

/// <summary>
/// Full mode decodes untrusted images: a header claiming a huge size is refused before any pixel is allocated, a
/// truncated image is an error rather than an answer, and a large genuine image is decoded at a reduced scale and
/// still answered correctly. Real server on 127.0.0.1, real MobileNetV2.
/// </summary>
public sealed class ImageBombTests(ITestOutputHelper output)
{
    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public async Task Image_bombs_and_truncated_images_are_refused_and_large_images_are_decoded_scaled_down()
    {
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { FullModelPath = MobileNetSplit.ModelPath, Port = 0, Threads = 1 });
        await using var raw = new RawStream(server.Url);
        await raw.HelloAsync("", "bomber", ServingModes.Full);
        Assert.Null((await raw.ReadAsync())!.Welcome.Error);

        // The probe from the issue: 462 bytes whose JPEG header claims 10000x10000 (700 MB decoded), sent 8 times.
        var bomb = TruncatedJpegClaiming(10_000, 10_000);
        Assert.True(bomb.Length < 1024, $"{bomb.Length} bytes");
        long before = ProcessMemory.ResidentBytes();
        for (int i = 0; i < 8; i++) await raw.RequestAsync($"bomb{i}", bomb);
        // Within the pixel limit (12 MP) but cut short: decoded at 1/4 scale, then refused as incomplete.
        await raw.RequestAsync("cut-short", TruncatedJpegClaiming(4000, 3000));
        // A genuine photo cut in half.
        var photo = await File.ReadAllBytesAsync(MobileNetSplit.Images(1)[0]);
        await raw.RequestAsync("half-photo", photo[..(photo.Length / 2)]);
        var answers = new Dictionary<string, InferResponse>();
        for (int i = 0; i < 10; i++)
        {
            var response = (await raw.ReadAsync())!.Response;
            answers[response.RequestId] = response;
        }
        long after = ProcessMemory.ResidentBytes();
        output.WriteLine($"resident before {ProcessMemory.Mib(before)}, after 8 bombs {ProcessMemory.Mib(after)}; bomb answer: {answers["bomb0"].Error}");

        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(ErrorCode.InvalidRequest, answers[$"bomb{i}"].Error?.Code);
            Assert.Contains("10000x10000", answers[$"bomb{i}"].Error.Message);
        }
        Assert.Equal(ErrorCode.MalformedFrame, answers["cut-short"].Error?.Code);
        Assert.Contains("ends early", answers["cut-short"].Error.Message);
        Assert.Equal(ErrorCode.MalformedFrame, answers["half-photo"].Error?.Code);
        // Decoding all eight at full size would take 5.6 GB; refused from the header, they cost nothing measurable.
        Assert.True(after - before < 128L << 20, $"resident memory grew {ProcessMemory.Mib(after - before)}");
        Assert.Equal(0, ((FullModelBackend)server.State.Backend(ServingModes.Full)).DecodeBudget.UsedBytes);

        // A genuine large image (a sample photo enlarged to 2000x1500) is decoded at 3/8 scale and answered as the
        // whole model answers the full-size decode.
        var large = Enlarged(photo, 2000, 1500);
        using var whole = new ImageModelSession(MobileNetSplit.ModelPath);
        int expected = ImageNetSample.TopK(whole.Run(RgbImage.Decode(large)), 1)[0];
        await raw.RequestAsync("large", large);
        var answer = (await raw.ReadAsync())!.Response;
        Assert.Null(answer.Error);
        Assert.Equal(expected, answer.Top[0].ClassIndex);
    }

    [Fact]
    public void The_decode_budget_refuses_what_does_not_fit_and_takes_back_what_is_released()
    {
        var budget = new MemoryBudget(100);
        Assert.True(budget.TryReserve(60));
        Assert.False(budget.TryReserve(41));
        Assert.Equal(60, budget.UsedBytes); // a refused reservation leaves nothing behind
        Assert.True(budget.TryReserve(40));
        Assert.False(budget.TryReserve(1));
        budget.Release(60);
        Assert.True(budget.TryReserve(60));
        Assert.False(new MemoryBudget(100).TryReserve(101));
    }

    [Fact]
    public void Encoded_images_report_their_declared_size_and_refuse_truncated_data()
    {
        var bomb = TruncatedJpegClaiming(10_000, 10_000);
        using var image = EncodedImage.Open(bomb);
        Assert.Equal((10_000, 10_000), (image.Width, image.Height));
        // JPEG decodes in 1/8 steps: the smallest step still covering 1000x1000 is 1250x1250.
        Assert.Equal((1250, 1250), image.ScaledSize(1000, 1000));
        Assert.Equal((10_000, 10_000), image.ScaledSize(20_000, 20_000));

        using var cut = EncodedImage.Open(TruncatedJpegClaiming(800, 600));
        Assert.Throws<InvalidDataException>(() => cut.Decode(800, 600));
        Assert.Equal((800, 600), (cut.Decode(800, 600, allowIncomplete: true).Width, 600));
    }

    /// <summary>A real 16x16 JPEG (noise, so its scan is long enough to cut) whose frame header is rewritten to claim <paramref name="width"/> x <paramref name="height"/>, cut off just after the scan header.</summary>
    private static byte[] TruncatedJpegClaiming(int width, int height)
    {
        using var bitmap = new SKBitmap(16, 16);
        var random = new Random(16);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++) bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        var jpeg = data.ToArray();
        int sof = Marker(jpeg, 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)width);
        int sos = Marker(jpeg, 0xDA);
        int scanStart = sos + 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(sos + 2));
        return jpeg[..(scanStart + 8)];
    }

    private static int Marker(byte[] jpeg, byte code)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == code) return i;
        throw new InvalidDataException($"no FF{code:X2} marker in the encoded JPEG");
    }

    private static byte[] Enlarged(byte[] photo, int width, int height)
    {
        using var source = SKBitmap.Decode(photo);
        using var large = source.Resize(new SKImageInfo(width, height), new SKSamplingOptions(SKFilterMode.Linear));
        using var data = large.Encode(SKEncodedImageFormat.Jpeg, 92);
        return data.ToArray();
    }
}
