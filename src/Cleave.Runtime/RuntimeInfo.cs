namespace Cleave.Runtime;

/// <summary>Facts about the wire protocol that both ends agree on.</summary>
public static class RuntimeInfo
{
    /// <summary>The protobuf package of the protocol (proto/cleave/v1).</summary>
    public const string ProtocolPackage = "cleave.v1";
}
