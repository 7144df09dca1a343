using Cleave.Codecs;
using Cleave.Runtime.Links;

namespace Cleave.Evaluation.Resilience;

/// <summary>What <see cref="BitErrorStudy"/> measured: error-free figures, byte sizes, and one row per channel model.</summary>
public sealed record BitErrorStudyResult(
    string Model, string Cut, string PlainSpec, string ResilientSpec, int Images,
    int FullTop1, int PlainTop1, int ResilientTop1, long PlainBytes, long ResilientBytes,
    IReadOnlyList<ConcealmentMode> Modes, IReadOnlyList<BitErrorStudyRow> Rows)
{
    /// <summary>The error-aware tail studied beside concealment (null: none).</summary>
    public string? ErrorAwareTail { get; init; }

    /// <summary>Error-free resilient frames answered by the error-aware tail (null: none studied).</summary>
    public int? ErrorAwareTop1 { get; init; }

    public double MeanPlainBytes => Images == 0 ? 0 : (double)PlainBytes / Images;
    public double MeanResilientBytes => Images == 0 ? 0 : (double)ResilientBytes / Images;

    /// <summary>The resilient layout's extra bytes over the plain frame, in percent of the plain frame.</summary>
    public double OverheadPercent => PlainBytes == 0 ? 0 : 100.0 * (ResilientBytes - PlainBytes) / PlainBytes;
}

/// <summary>One channel model's figures (percentages of the images; flips and transmissions per image).</summary>
public sealed record BitErrorStudyRow(
    BitErrorModel Channel,
    double PlainLostPercent, double PlainTop1LostAsWrong, double PlainTop1Resent, double PlainMeanTransmissions, double PlainUndeliveredPercent,
    double ResilientLostPercent, double FramesConcealedPercent, double GroupsConcealedPercent, double GroupsRepairedPercent, IReadOnlyList<double> ResilientTop1,
    double PlainFlipsPerFrame, double ResilientFlipsPerFrame)
{
    /// <summary>Top-1 (percent) of the error-aware tail on the interpolated tensors (the same damaged bytes); null when none was studied.</summary>
    public double? ErrorAwareTop1 { get; init; }

    internal sealed class Tally(BitErrorModel channel, int modes)
    {
        public long PlainFlips, ResilientFlips, PlainTransmissions, GroupsConcealed, GroupsRepaired, Groups;
        public int PlainLost, PlainTop1LostWrong, PlainTop1Resent, PlainUndelivered, ResilientLost, FramesConcealed, ErrorAwareTop1;
        public int[] ResilientTop1 { get; } = new int[modes];

        public BitErrorStudyRow ToRow(int images, bool errorAware = false)
        {
            double n = Math.Max(1, images);
            return new BitErrorStudyRow(channel,
                100 * PlainLost / n, 100 * PlainTop1LostWrong / n, 100 * PlainTop1Resent / n, PlainTransmissions / n, 100 * PlainUndelivered / n,
                100 * ResilientLost / n, 100 * FramesConcealed / n, Groups == 0 ? 0 : 100.0 * GroupsConcealed / Groups, Groups == 0 ? 0 : 100.0 * GroupsRepaired / Groups,
                [.. ResilientTop1.Select(t => 100 * t / n)], PlainFlips / n, ResilientFlips / n)
            {
                ErrorAwareTop1 = errorAware ? 100 * ErrorAwareTop1 / n : null,
            };
        }
    }
}
