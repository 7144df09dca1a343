namespace Cleave.Training.Tests;

/// <summary>
/// Tests that assert bit-exact repetition of a seeded run: libtorch's random generator is one per process, so a test
/// class running beside them that draws from it (weight initialisation, dropout) shifts their sequence. Seen once in CI:
/// a resumed run's losses differed from position 0. These run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalStateCollection
{
    public const string Name = "torch global random state";
}
