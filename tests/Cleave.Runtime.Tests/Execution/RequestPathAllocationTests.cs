using Cleave.Codecs;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests.Execution;

/// <summary>
/// The server's request path allocates nothing in proportion to the tensor: a frame of MobileNetV2's cut tensor
/// ([1,64,14,14], 50 KB as float32) decoded into a caller's buffer and run through a session with bound inputs and outputs
/// costs a few hundred bytes of managed allocation (header records, the codec object, ONNX Runtime's call arguments).
/// Before issue 18 it was about 2.2x the tensor (the decoded array, the batch concatenation, the output copy).
/// </summary>
public sealed class RequestPathAllocationTests
{
    [AssetFact(MobileNetSplit.TfLite)]
    public void Decoding_into_a_pooled_buffer_and_a_bound_run_allocate_a_small_fraction_of_the_tensor()
    {
        using var backend = SplitTailBackend.Load(MobileNetSplit.SplitPath, threads: 1);
        using var stream = backend.CreateStream(threads: 1, maxBatch: 1);
        var values = SyntheticTensors.ReluLike(backend.SampleElements, seed: 2);
        var shape = new TensorShape([.. backend.SampleShape.Select(d => (int)d)]);
        byte[] frame = FeatureCodecs.Create("quant:bits=8,entropy=rans").Encode(values, shape);
        for (int i = 0; i < 3; i++) Request(); // warm-up: pools, bound values, JIT

        const int Requests = 10;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Requests; i++) Request();
        long perRequest = (GC.GetAllocatedBytesForCurrentThread() - before) / Requests;
        long tensorBytes = 4L * backend.SampleElements;
        Assert.True(perRequest < tensorBytes / 20, $"{perRequest} bytes allocated per request for a {tensorBytes}-byte tensor");

        void Request()
        {
            backend.Prepare(frame, stream.InputSlot(0));
            stream.Run(1);
            Assert.Equal(1001, stream.OutputSlot(0).Length);
        }
    }
}
