using Cleave.Evaluation.Studies;

namespace Cleave.Evaluation.Tests;

public sealed class CodecSweepSpecTests
{
    [Fact]
    public void ExpandsBraceGroupsAndKeepsLabels()
    {
        var families = CodecSweepSpec.Parse("quant+rANS=quant:bits={4,8},entropy=rans;fp16;slicer:keep={0.1,0.2},blocks={4,8}");
        Assert.Equal(["quant+rANS", "fp16", "slicer:keep={0.1,0.2},blocks={4,8}"], families.Select(f => f.Label));
        Assert.Equal(["quant:bits=4,entropy=rans", "quant:bits=8,entropy=rans"], families[0].Specs);
        Assert.Equal(["fp16"], families[1].Specs);
        Assert.Equal(4, families[2].Specs.Count);
        Assert.Contains("slicer:keep=0.2,blocks=4", families[2].Specs);
    }

    [Fact]
    public void EmptyListIsRefused() => Assert.Throws<ArgumentException>(() => CodecSweepSpec.Parse(" ; "));
}
