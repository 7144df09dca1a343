namespace Cleave.Planning.Tests;

/// <summary>
/// Tests that run real models and time them: one at a time, so one test's compute does not slow another's
/// measured requests (xunit runs test classes in parallel otherwise).
/// </summary>
[CollectionDefinition(Name)]
public sealed class RealModelCollection
{
    public const string Name = "real models";
}
