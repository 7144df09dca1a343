using Cleave.Planning.Profiles;

namespace Cleave.Planning.Planner;

/// <summary>
/// How fast the device and the server are relative to the machine that collected the profile: a time measured there
/// becomes time / speed (0.25 = four times slower). A device profile, collected with <c>cleave plan --profile-only</c>
/// on the device itself, replaces the scaled device times wherever it has the same cut and codec.
/// </summary>
public sealed record Hardware(double DeviceSpeed = 1, double ServerSpeed = 1, PlanningProfile? DeviceProfile = null)
{
    public void Validate()
    {
        if (!(DeviceSpeed > 0) || double.IsInfinity(DeviceSpeed)) throw new ArgumentOutOfRangeException(nameof(DeviceSpeed), DeviceSpeed, "device speed must be a positive number (1 = the profiling machine)");
        if (!(ServerSpeed > 0) || double.IsInfinity(ServerSpeed)) throw new ArgumentOutOfRangeException(nameof(ServerSpeed), ServerSpeed, "server speed must be a positive number (1 = the profiling machine)");
    }

    public double Device(double profiledMs) => profiledMs / DeviceSpeed;
    public double Server(double profiledMs) => profiledMs / ServerSpeed;
}
