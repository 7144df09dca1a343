namespace Cleave.Models.Gating;

/// <summary>
/// One input's calibration run over a ladder of configurations (cheapest first): the frame bytes each sends, whether
/// the tail's top-1 then agrees with the full model's, and whether it is right (against the label; false without one).
/// </summary>
public sealed record GateOutcome(int[] Bytes, bool[] Agrees, bool[] Correct)
{
    public int Configurations => Bytes.Length;

    /// <summary>The training label: the cheapest configuration that agrees with the full model, or the most expensive when none does.</summary>
    public int CheapestAgreeing
    {
        get
        {
            for (int k = 0; k < Agrees.Length; k++) if (Agrees[k]) return k;
            return Agrees.Length - 1;
        }
    }
}
