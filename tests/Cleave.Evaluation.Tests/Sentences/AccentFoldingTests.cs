using Cleave.Evaluation.Sentences;

namespace Cleave.Evaluation.Tests.Sentences;

public sealed class AccentFoldingTests
{
    [Fact]
    public void FoldsPrecomposedLatinLettersAndDropsCombiningMarksLikeNfdThenStrip()
    {
        Assert.Equal("Cafe Arger Rue e o", AccentFolding.Fold("Café Ärger Ŕue ė ô"));
        Assert.Equal("cafe", AccentFolding.Fold("cafe\u0301"));
        Assert.Equal("Æsir Øre straße Łodz", AccentFolding.Fold("Æsir Øre straße Łódź")); // no canonical decomposition: kept
        string ascii = "plain ASCII text.";
        Assert.Same(ascii, AccentFolding.Fold(ascii));
    }
}
