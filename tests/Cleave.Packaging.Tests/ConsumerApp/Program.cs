using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Runtime;
using Cleave.Runtime.Client;

// Usage: ConsumerApp SPLIT_FOLDER SERVER_URL. Runs the split's head on a fixed input, compresses the cut tensor,
// sends it to the server and prints the server's top-1 as "top1=N" (the test compares it with its own tail run), and
// the same class through the public answer records (ScoredClass, ServerWelcome: the wire messages are internal).
var split = SplitDirectory.Load(args[0]);
string input = split.Manifest.HeadInputs[0].Name;
var x = new float[16];
for (int i = 0; i < x.Length; i++) x[i] = (i % 5) * 0.25f - 0.5f;

using var head = new OrtModelRunner(File.ReadAllBytes(split.HeadPath));
var cut = head.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, [1, 16], x) })[head.OutputNames[0]];
byte[] frame = FeatureCodecs.Create("quant:bits=8,entropy=rans").Encode((float[])cut.Data, new TensorShape(1, (int)cut.Shape[1]));

await using var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = new Uri(args[1]), ManifestHash = split.ManifestHash });
SplitResult result = await client.InferAsync(frame);
Console.WriteLine($"top1={result.Top1}");
Console.WriteLine($"first={result.Top[0].ClassIndex} server={(client.Welcome.ServerId.Length > 0 ? "named" : "unnamed")}");
