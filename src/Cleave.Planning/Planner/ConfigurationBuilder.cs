using Cleave.Planning.Profiles;

namespace Cleave.Planning.Planner;

/// <summary>Turns a profile into every candidate configuration: full local, full offload at each JPEG quality, every cut x codec.</summary>
public static class ConfigurationBuilder
{
    public static IReadOnlyList<Configuration> Build(PlanningProfile profile, Hardware hardware)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(hardware);
        hardware.Validate();
        var device = hardware.DeviceProfile;
        double Drop(double top1) => 100 * (profile.FullTop1 - top1);
        double preprocess = device?.PreprocessMs ?? hardware.Device(profile.PreprocessMs);

        var list = new List<Configuration>
        {
            new()
            {
                Id = Configuration.LocalId, Kind = ConfigurationKind.Local,
                DeviceMs = preprocess + (device?.FullMs ?? hardware.Device(profile.FullMs)),
                Top1 = profile.FullTop1, DropPoints = 0, Agreement = 1,
            },
        };
        foreach (var o in profile.Offload)
        {
            var onDevice = device?.Offload.FirstOrDefault(d => d.Quality == o.Quality);
            list.Add(new Configuration
            {
                Id = Configuration.OffloadId(o.Quality), Kind = ConfigurationKind.Offload, Codec = Configuration.OffloadCodec(o.Quality),
                // The device decodes the photo and resizes it (the preprocessing cost) before encoding the JPEG.
                DeviceMs = preprocess, EncodeMs = onDevice?.EncodeMs ?? hardware.Device(o.EncodeMs),
                BytesMean = o.BytesMean, BytesP95 = o.BytesP95,
                ServerDecodeMs = hardware.Server(o.DecodeMs), ServerMs = hardware.Server(profile.FullMs), ResultBytes = profile.ResultBytes,
                Top1 = o.Top1, DropPoints = Drop(o.Top1), Agreement = o.Agreement,
            });
        }
        foreach (var s in profile.Splits)
        {
            var deviceSplit = device?.Splits.FirstOrDefault(d => d.Tensor == s.Tensor);
            foreach (var c in s.Codecs)
            {
                var deviceCodec = deviceSplit?.Codecs.FirstOrDefault(d => d.Codec == c.Codec);
                list.Add(new Configuration
                {
                    Id = Configuration.SplitId(s.Tensor, c.Codec), Kind = ConfigurationKind.Split, Split = s.Tensor, Codec = c.Codec,
                    DeviceMs = preprocess + (deviceSplit?.HeadMs ?? hardware.Device(s.HeadMs)),
                    EncodeMs = deviceCodec?.EncodeMs ?? hardware.Device(c.EncodeMs),
                    BytesMean = c.BytesMean, BytesP95 = c.BytesP95,
                    ServerDecodeMs = hardware.Server(c.DecodeMs), ServerMs = hardware.Server(s.TailMs), ResultBytes = profile.ResultBytes,
                    Top1 = c.Top1, DropPoints = Drop(c.Top1), Agreement = c.Agreement,
                });
            }
        }
        return list;
    }
}
