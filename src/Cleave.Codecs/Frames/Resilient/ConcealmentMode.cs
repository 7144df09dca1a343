namespace Cleave.Codecs;

/// <summary>What a resilient decoder puts where a damaged group was (byte values as stored in the frame header).</summary>
public enum ConcealmentMode : byte
{
    /// <summary>Zeros.</summary>
    Zero = 0,

    /// <summary>Each plane's mean over its rows that arrived intact (0 where none did).</summary>
    Mean = 1,

    /// <summary>
    /// Per plane and column, linear interpolation between the nearest intact rows above and below the lost run (the
    /// one that exists where only one does; the plane's mean where neither does).
    /// </summary>
    Interpolate = 2,
}
