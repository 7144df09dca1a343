using Cleave.Codecs;
using Cleave.Runtime.Client;

namespace Cleave.Runtime.Load;

/// <summary>Payloads made once before a load test, so simulated clients only send.</summary>
public static class LoadPayloads
{
    /// <summary>Split mode: each image through the head and the codec, as a device would send it.</summary>
    public static IReadOnlyList<byte[]> SplitFrames(SplitDirectory split, IReadOnlyList<string> images, FeatureCodec codec)
    {
        using var head = SplitHead.Load(split);
        return [.. images.Select(path => head.Encode(path, codec).Frame)];
    }

    /// <summary>
    /// Split mode with the device's exit: every image's frame, and whether the exit answered it on the device (such a
    /// payload is counted, never sent, by <see cref="LoadGenerator"/>).
    /// </summary>
    public static (IReadOnlyList<byte[]> Frames, IReadOnlyList<bool> AnsweredOnDevice) SplitFramesWithExit(SplitDirectory split, IReadOnlyList<string> images,
        FeatureCodec codec, DeviceExit exit)
    {
        using var head = SplitHead.Load(split);
        var frames = images.Select(path => head.Encode(path, codec, exit)).ToList();
        return ([.. frames.Select(f => f.Frame)], [.. frames.Select(f => f.AnsweredOnDevice)]);
    }

    /// <summary>Full mode: the image files themselves.</summary>
    public static IReadOnlyList<byte[]> ImageFiles(IReadOnlyList<string> images) => [.. images.Select(File.ReadAllBytes)];
}
