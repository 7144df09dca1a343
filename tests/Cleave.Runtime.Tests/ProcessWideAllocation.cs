namespace Cleave.Runtime.Tests;

/// <summary>
/// Tests that measure the whole process (resident memory, or allocation counted on every thread because the server's
/// batcher and workers allocate on their own): xunit runs this collection with nothing beside it, so another test
/// loading a model in parallel is not charged to the attack under test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideAllocation
{
    public const string Name = "process-wide allocation";
}
