using System.Security.Cryptography;

namespace Cleave.Runtime.Client;

/// <summary>
/// Sends a folder's worth of images through a <see cref="SplitClient"/>: each image is turned into a payload on this
/// task (the device's head and codec run one image at a time), and up to <c>inFlight</c> requests wait for answers.
/// A payload the device's exit answered is recorded as such and never sent.
/// </summary>
public static class ImageClassificationRun
{
    /// <param name="makePayload">the frame (split mode: head + codec) or file bytes (full mode), with head and encode ms</param>
    /// <param name="localTop1">optional in-process top-1 of a payload, for checking the server's answer</param>
    public static async Task<IReadOnlyList<ImageRequestResult>> RunAsync(SplitClient client, IReadOnlyList<string> images,
        Func<string, EncodedFrame> makePayload, int inFlight, Func<byte[], int>? localTop1 = null,
        Action<ImageRequestResult>? onResult = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFlight, 1);
        var results = new ImageRequestResult[images.Count];
        using var slots = new SemaphoreSlim(inFlight);
        var sends = new List<Task>(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var payload = makePayload(images[i]);
            string sha256 = Convert.ToHexStringLower(SHA256.HashData(payload.Frame));
            if (payload.AnsweredOnDevice)
            {
                // Answered by the device's exit: nothing crosses the link and the server never hears of it.
                var exited = new ImageRequestResult(images[i], 0, payload.HeadMs, payload.EncodeMs, null, null, null) { Exit = payload.Exit, BytesSaved = payload.Frame.Length, PayloadSha256 = sha256 };
                results[i] = exited;
                onResult?.Invoke(exited);
                continue;
            }
            int? local = localTop1?.Invoke(payload.Frame);
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            int index = i;
            sends.Add(Task.Run(async () =>
            {
                ImageRequestResult result;
                try
                {
                    var answer = await client.InferAsync(payload.Frame, cancellationToken: cancellationToken).ConfigureAwait(false);
                    result = new(images[index], payload.Frame.Length, payload.HeadMs, payload.EncodeMs, answer, null, local) { Exit = payload.Exit, Gate = payload.Gate, PayloadSha256 = sha256 };
                }
                catch (SplitInferenceException e)
                {
                    result = new(images[index], payload.Frame.Length, payload.HeadMs, payload.EncodeMs, null, $"{e.Code}: {e.Message}", local) { Gate = payload.Gate, PayloadSha256 = sha256 };
                }
                finally { slots.Release(); }
                results[index] = result;
                onResult?.Invoke(result);
            }, CancellationToken.None));
        }
        await Task.WhenAll(sends).ConfigureAwait(false);
        return results;
    }
}
