using Cleave.Codecs;

namespace Cleave.Runtime.Client;

/// <summary>A frame ready to send, with what making it cost on the device.</summary>
public sealed record EncodedFrame(byte[] Frame, TensorShape Shape, double HeadMs, double EncodeMs);
