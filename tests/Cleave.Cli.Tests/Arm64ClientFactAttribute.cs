namespace Cleave.Cli.Tests;

/// <summary>
/// A fact that runs the linux-arm64 publish of <c>cleave</c> under qemu-user (docs/platforms.md): the program is named by
/// <see cref="Arm64Cleave.ProgramVariable"/> (.ci/run sets it after .ci/arm64-client published one) and the emulator is
/// found on PATH. Skipped with the reason shown when either is missing, or the shared assets are; where CI could not set
/// up emulation, .ci/run passes the reason in <see cref="Arm64Cleave.SkipReasonVariable"/>.
/// </summary>
public sealed class Arm64ClientFactAttribute : FactAttribute
{
    public Arm64ClientFactAttribute(params string[] assets)
    {
        Skip = new AssetFactAttribute(assets).Skip ?? Arm64Cleave.Unavailable();
    }
}
