namespace Cleave.Models.Text;

/// <summary>Splits a text corpus into documents at TinyStories' <c>&lt;|endoftext|&gt;</c> separator lines.</summary>
public static class TextDocuments
{
    public const string EndOfText = "<|endoftext|>";

    /// <summary>The non-empty documents of <paramref name="corpus"/>, each trimmed of surrounding whitespace.</summary>
    public static IReadOnlyList<string> Split(string corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var documents = new List<string>();
        foreach (string part in corpus.Replace("\r\n", "\n", StringComparison.Ordinal).Split(EndOfText))
        {
            string trimmed = part.Trim();
            if (trimmed.Length > 0) documents.Add(trimmed);
        }
        return documents;
    }
}
