using Cleave.Planning.Planner;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Serving;

/// <summary>How a <see cref="PlanClient"/> runs a plan: where the server and the split folders are, the emulated link and device, adaptation knobs.</summary>
public sealed record PlanClientOptions
{
    public required Uri Server { get; init; }
    public required PlanDocument Plan { get; init; }

    /// <summary>The parent folder written by <c>cleave split --plan</c>.</summary>
    public required string SplitsDirectory { get; init; }

    /// <summary>The whole model (full local inference, and the preprocessing full offload needs).</summary>
    public required string ModelPath { get; init; }

    /// <summary>The emulated link (changeable at run time through <see cref="PlanClient.Link"/>).</summary>
    public LinkProfile Link { get; init; } = LinkProfile.Unlimited;

    /// <summary>
    /// Emulated device speed relative to this machine: device compute that took t ms here is padded to t / speed
    /// (1: no padding). Use the plan's device speed to make a fast development machine behave like the planned device.
    /// </summary>
    public double EmulatedDeviceSpeed { get; init; } = 1;

    /// <summary>
    /// Emulate the device at the plan's own device times instead: every device step lasts what the plan says it
    /// does (its profiled time / the planned device speed), or longer if the work here took longer. On a shared
    /// machine this keeps the emulated device steady, so measured latency differences come from the link and the
    /// server, as they would with a real dedicated device.
    /// </summary>
    public bool PlannedDeviceTimes { get; init; }

    /// <summary>Switch among the plan's adaptive configurations as the link changes (false: always <see cref="Fixed"/> or the chosen one).</summary>
    public bool Adaptive { get; init; } = true;

    /// <summary>A configuration id to run without adapting (defaults to the plan's choice).</summary>
    public string? Fixed { get; init; }

    /// <summary>An RTT probe (one empty request, answered with an error after one round trip) every this many requests; 0: never.</summary>
    public int ProbeEvery { get; init; } = 5;

    /// <summary>While on full local inference, every this many requests go over the network instead, so a better link is noticed.</summary>
    public int ExploreEvery { get; init; } = 10;

    public double SwitchMargin { get; init; } = 0.15;
    public int SwitchConfirmations { get; init; } = 2;
    public int MinRequestsBetweenSwitches { get; init; } = 3;

    public int? LinkSeed { get; init; }

    /// <summary>ONNX Runtime intra-op threads for the device's models (as the profile was timed with).</summary>
    public int Threads { get; init; } = 1;
}
