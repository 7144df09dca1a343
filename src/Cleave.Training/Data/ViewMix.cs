namespace Cleave.Training.Data;

/// <summary>
/// How a random view is mixed with a view of another training image (<see cref="RandomViews"/>): "function matching"
/// (Beyer et al. 2022): a distilled student only has to match the frozen teacher on whatever it is shown, so a blend of
/// two photos is one more valid input, and the teacher's output on it is the target; no label is needed.
/// </summary>
public enum ViewMix
{
    /// <summary>Views of the image alone.</summary>
    None,

    /// <summary>Every pixel λ·view + (1 − λ)·partner's view, λ uniform in [0, 1) per view (mixup, Beta(1, 1)).</summary>
    Mixup,

    /// <summary>A rectangle of area about (1 − λ) of the view, λ uniform, replaced by the partner's view there (cutmix).</summary>
    Cutmix,
}
