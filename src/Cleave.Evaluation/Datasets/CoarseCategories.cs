namespace Cleave.Evaluation.Datasets;

/// <summary>
/// A coarse category for every class of a wnid list: the class's WordNet hypernym at a fixed depth (depth 6 turns
/// ImageNet's 1000 classes into 83 groups such as animal, device, conveyance, clothing, container). Categories are
/// numbered in order of first appearance in the wnid list, so the numbering depends on nothing but the list and depth.
/// </summary>
public sealed class CoarseCategories
{
    private CoarseCategories(int depth, int[] categoryOfClass, IReadOnlyList<string> names)
    {
        Depth = depth;
        CategoryOfClass = categoryOfClass;
        Names = names;
    }

    public int Depth { get; }

    /// <summary>Category index of fine class c (class c = line c of the wnid list).</summary>
    public IReadOnlyList<int> CategoryOfClass { get; }

    /// <summary>Category names (the hypernym's first lemma, with its offset when two share a lemma), by index.</summary>
    public IReadOnlyList<string> Names { get; }

    public int Count => Names.Count;

    public static CoarseCategories FromWordNet(WordNetNouns wordNet, IReadOnlyList<string> wnids, int depth)
    {
        ArgumentNullException.ThrowIfNull(wordNet);
        ArgumentNullException.ThrowIfNull(wnids);
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var indexOf = new Dictionary<long, int>();
        var synsets = new List<long>();
        var categoryOfClass = new int[wnids.Count];
        for (int c = 0; c < wnids.Count; c++)
        {
            long ancestor = wordNet.AncestorAtDepth(WordNetNouns.OffsetOf(wnids[c]), depth);
            if (!indexOf.TryGetValue(ancestor, out int index))
            {
                index = synsets.Count;
                indexOf[ancestor] = index;
                synsets.Add(ancestor);
            }
            categoryOfClass[c] = index;
        }
        var lemmas = synsets.Select(wordNet.Lemma).ToList();
        var names = synsets.Select((s, i) => lemmas.Count(l => l == lemmas[i]) > 1 ? $"{lemmas[i]}.{s:D8}" : lemmas[i]).ToList();
        return new CoarseCategories(depth, categoryOfClass, names);
    }
}
