namespace Cleave.Runtime;

/// <summary>Facts about the wire protocol that both ends agree on.</summary>
public static class RuntimeInfo
{
    /// <summary>The protobuf package of the protocol (proto/cleave/v1).</summary>
    public const string ProtocolPackage = "cleave.v1";

    /// <summary>
    /// Upper bounds of the buckets of the server's <c>cleave_batch_size</c> histogram on /metrics (the last, +Inf, is
    /// implicit): the server writes them and a load generator reads them back, so both halves take them from here.
    /// </summary>
    public static IReadOnlyList<int> BatchSizeBuckets { get; } = [1, 2, 4, 8, 16, 32, 64];
}
