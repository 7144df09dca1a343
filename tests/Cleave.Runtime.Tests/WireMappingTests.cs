using Cleave.Runtime.Client;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Tests;

/// <summary>
/// The public enums and records stand for the internal cleave.v1 messages: every wire code has a Cleave code of the
/// same number and name (load reports and logs key errors by name), and the records carry every field users read.
/// </summary>
public sealed class WireMappingTests
{
    [Fact]
    public void Every_split_error_code_has_a_Cleave_code_of_the_same_number_and_name()
    {
        Assert.Equal(Enum.GetValues<ErrorCode>().Length, Enum.GetValues<SplitErrorCode>().Length);
        foreach (var wire in Enum.GetValues<ErrorCode>())
        {
            Assert.Equal(wire.ToString(), wire.ToCleave().ToString());
            Assert.Equal(wire, wire.ToCleave().ToWire());
        }
    }

    [Fact]
    public void Every_generation_error_code_has_a_Cleave_code_of_the_same_number_and_name()
    {
        Assert.Equal(Enum.GetValues<GenerationErrorCode>().Length, Enum.GetValues<GenerationFailureCode>().Length);
        foreach (var wire in Enum.GetValues<GenerationErrorCode>())
        {
            // The wire's 0 is GenerationErrorUnspecified (protoc keeps the prefix it cannot strip); Cleave's is Unspecified.
            string expected = wire == GenerationErrorCode.GenerationErrorUnspecified ? "Unspecified" : wire.ToString();
            Assert.Equal(expected, wire.ToCleave().ToString());
            Assert.Equal(wire, wire.ToCleave().ToWire());
        }
    }

    [Fact]
    public void A_welcome_maps_to_a_ServerWelcome_with_its_tasks()
    {
        var welcome = new Welcome { ServerId = "s1", ManifestHash = "abc", MaxMessageBytes = 4 << 20, Mode = "split" };
        welcome.AcceptedCodecs.Add("raw");
        welcome.Tasks.Add(new TaskInfo { Name = "imagenet", Kind = "classes", Outputs = 1001 });
        welcome.Tasks.Add(new TaskInfo { Name = "pooled", Kind = "tensor", Outputs = uint.MaxValue });

        var mapped = welcome.ToCleave();

        Assert.Equal(("s1", "abc", 4 << 20, "split"), (mapped.ServerId, mapped.ManifestHash, mapped.MaxMessageBytes, mapped.Mode));
        Assert.Equal(["raw"], mapped.AcceptedCodecs);
        Assert.Equal([new ServedTask("imagenet", "classes", 1001), new ServedTask("pooled", "tensor", int.MaxValue)], mapped.Tasks);
    }

    [Fact]
    public void Missing_timing_maps_to_zeros_and_scores_keep_their_order()
    {
        Assert.Equal(ServerTimes.None, ((ServerTiming?)null).ToCleave());
        Assert.Equal(new ServerTimes(1.5, 2, 3, 4), new ServerTiming { QueueMs = 1.5, DecodeMs = 2, TailMs = 3, BatchSize = 4 }.ToCleave());

        var response = new InferResponse();
        response.Top.Add(new ClassScore { ClassIndex = 7, Score = 0.9f });
        response.Top.Add(new ClassScore { ClassIndex = 3, Score = 0.1f });
        Assert.Equal([new ScoredClass(7, 0.9f), new ScoredClass(3, 0.1f)], response.Top.ToCleave());
    }
}
