using System.Buffers;

namespace Cleave.Codecs;

/// <summary>
/// The per-tensor parameter search behind <c>target=snr:S</c> and <c>target=bytes:B</c>. Both rest on one fact: the
/// guard bounds each block's squared error by delta · n_b · P, so for K survivors the total error is at most
/// dropped energy + delta · K · P. For an SNR target that gives delta directly for every keep ratio; the search
/// then tries the keep ratios (largest first), refines delta once from the measured error, and tries other block
/// counts at the best keep. For a byte target it bisects delta (log scale) per keep ratio, skipping ratios whose
/// dropped energy alone is already worse than the best SNR found. Every candidate is a real encode, so the chosen
/// payload is exactly what was measured.
/// </summary>
public static class SlicerTargetSearch
{
    /// <summary>Keep ratios tried, largest first (keep = 1 is plain quantization: positions cost nothing).</summary>
    public static IReadOnlyList<float> KeepRatios { get; } = [1f, 0.75f, 0.5f, 0.35f, 0.25f, 0.15f, 0.1f, 0.05f, 0.02f];

    private static readonly int[] OtherBlockCounts = [1, 4, 16];
    private const int ByteBisectionSteps = 7;
    private const int RelaxRounds = 3;

    public readonly record struct Outcome(SlicerEncodeResult Result, byte[] Payload, int Encodes);

    /// <summary>Searches settings (asym and level rule taken from <paramref name="baseSettings"/>) to meet <paramref name="target"/>.</summary>
    /// <param name="rowLength">The tensor's last dimension, for <c>rows=ref</c> (ignored without it).</param>
    /// <param name="contextShape">The tensor's shape, for <c>ctx=2d</c> (null without it).</param>
    public static Outcome Search(ReadOnlySpan<float> values, SlicerSettings baseSettings, SlicerTarget target, int frameOverhead, int rowLength = 0,
        TensorShape? contextShape = null)
    {
        var scratch = new ArrayBufferWriter<byte>(Math.Max(256, values.Length));
        return target.Kind switch
        {
            SlicerTargetKind.Snr => SearchSnr(values, baseSettings, target.Value, scratch, new Best(rowLength, contextShape)),
            SlicerTargetKind.Bytes => SearchBytes(values, baseSettings, (long)target.Value - frameOverhead, scratch, new Best(rowLength, contextShape)),
            _ => throw new ArgumentException("no target to search for", nameof(target)),
        };
    }

    private sealed class Best(int rowLength, TensorShape? contextShape)
    {
        public SlicerEncodeResult Result;
        public byte[]? Payload;
        public int Encodes;

        public (SlicerEncodeResult Result, int Bytes) Try(ReadOnlySpan<float> values, SlicerSettings settings, ArrayBufferWriter<byte> scratch,
            Func<SlicerEncodeResult, int, SlicerEncodeResult, int, bool> better)
        {
            scratch.ResetWrittenCount();
            var result = SlicerEncoder.Encode(values, settings, scratch, rowLength: rowLength, contextShape: contextShape);
            Encodes++;
            if (Payload is null || better(result, scratch.WrittenCount, Result, Payload.Length))
            {
                Result = result;
                Payload = scratch.WrittenSpan.ToArray();
            }
            return (result, scratch.WrittenCount);
        }

        public Outcome ToOutcome() => new(Result, Payload!, Encodes);
    }

    private static Outcome SearchSnr(ReadOnlySpan<float> values, SlicerSettings baseSettings, double snrDb, ArrayBufferWriter<byte> scratch, Best best)
    {
        if (values.IsEmpty)
        {
            best.Try(values, baseSettings, scratch, (_, _, _, _) => true);
            return best.ToOutcome();
        }
        double energy = 0;
        int finite = 0;
        foreach (float x in values) if (float.IsFinite(x)) { energy += (double)x * x; finite++; }
        double meanSquare = finite == 0 ? 0 : energy / finite;
        double allowed = energy * Math.Pow(10, -snrDb / 10); // total squared error the target allows
        bool met = false;

        // Meets the target and is smaller, or nothing met yet and this comes closer.
        bool Better(SlicerEncodeResult r, int bytes, SlicerEncodeResult old, int oldBytes)
        {
            bool ok = r.SnrDb >= snrDb, oldOk = old.SnrDb >= snrDb;
            if (ok != oldOk) return ok;
            return ok ? bytes < oldBytes : r.SnrDb > old.SnrDb;
        }

        if (energy == 0 || meanSquare == 0)
        {
            best.Try(values, baseSettings.With(keepRatio: 1, delta: 0), scratch, Better);
            return best.ToOutcome();
        }

        int n = values.Length;
        var bestKeep = baseSettings.With(keepRatio: 1);
        int bestBytes = int.MaxValue;
        int[] survivorArray = ArrayPool<int>.Shared.Rent(n);
        try
        {
            foreach (float keep in KeepRatios)
            {
                var settings = baseSettings.With(keepRatio: keep, blocks: SlicerSettings.Default.Blocks);
                int k = settings.SurvivorsFor(n);
                double dropped = keep >= 1 ? 0 : DroppedEnergy(values, settings, survivorArray.AsSpan(0, k), energy);
                if (dropped >= allowed * 0.98) continue; // the target cannot be met at this ratio (or smaller ones)
                var (result, bytes) = TryWithRefinement(values, settings, k, dropped, allowed, meanSquare, snrDb, scratch, best, Better);
                if (result.SnrDb >= snrDb) met = true;
                if (result.SnrDb >= snrDb && bytes < bestBytes) { bestBytes = bytes; bestKeep = result.Settings; }
            }
            if (met)
            {
                int k = bestKeep.SurvivorsFor(n);
                double dropped = bestKeep.KeepRatio >= 1 ? 0 : DroppedEnergy(values, bestKeep, survivorArray.AsSpan(0, k), energy);
                foreach (int blocks in OtherBlockCounts)
                    TryWithRefinement(values, bestKeep.With(blocks: blocks), k, dropped, allowed, meanSquare, snrDb, scratch, best, Better);
            }
            else
            {
                // Unreachable within the budget model (every block at 256 levels is still too coarse): most accurate setting.
                best.Try(values, baseSettings.With(keepRatio: 1, blocks: SlicerSettings.MaxBlocks, delta: 0), scratch, Better);
            }
        }
        finally { ArrayPool<int>.Shared.Return(survivorArray); }
        return best.ToOutcome();
    }

    private static (SlicerEncodeResult, int) TryWithRefinement(ReadOnlySpan<float> values, SlicerSettings settings, int k, double dropped,
        double allowed, double meanSquare, double snrDb, ArrayBufferWriter<byte> scratch, Best best,
        Func<SlicerEncodeResult, int, SlicerEncodeResult, int, bool> better)
    {
        // 0.995 leaves room for float32 rounding beside the guard's fixed-point arithmetic.
        double quantBudget = (allowed - dropped) * 0.995;
        float delta = (float)Math.Clamp(quantBudget / (k * meanSquare), 0, SlicerSettings.MaxDelta);
        var (result, bytes) = best.Try(values, settings.With(delta: delta), scratch, better);
        for (int round = 0; round < RelaxRounds; round++)
        {
            double keptError = result.SquaredError - dropped;
            if (result.SnrDb >= snrDb && keptError > 0 && keptError < quantBudget * 0.95 && delta < SlicerSettings.MaxDelta)
            {
                // Per-block budgets leave slack (blocks far under theirs, whole level counts): scale delta up so the
                // total error nearly fills what the target allows.
                delta = (float)Math.Clamp(delta * quantBudget / keptError, 0, SlicerSettings.MaxDelta);
                var next = best.Try(values, settings.With(delta: delta), scratch, better);
                if (next.Result.SnrDb < snrDb) break;
                if (next.Bytes < bytes) (result, bytes) = next;
            }
            else if (result.SnrDb < snrDb && delta > 0)
            {
                // Capped blocks (256 levels, alphabet limit) overshot: tighten the others.
                delta *= 0.5f;
                (result, bytes) = best.Try(values, settings.With(delta: delta), scratch, better);
            }
            else break;
        }
        return (result, bytes);
    }

    private static double DroppedEnergy(ReadOnlySpan<float> values, SlicerSettings settings, Span<int> survivors, double energy)
    {
        AsymmetricTopK.Select(values, settings.Asymmetry, survivors);
        double kept = 0;
        foreach (int i in survivors)
        {
            float x = values[i];
            if (float.IsFinite(x)) kept += (double)x * x;
        }
        return Math.Max(0, energy - kept);
    }

    private static Outcome SearchBytes(ReadOnlySpan<float> values, SlicerSettings baseSettings, long payloadBudget, ArrayBufferWriter<byte> scratch, Best best)
    {
        // Fits the budget and has a better SNR (fewer bytes on ties), or nothing fits yet and this is smaller.
        bool Better(SlicerEncodeResult r, int bytes, SlicerEncodeResult old, int oldBytes)
        {
            bool ok = bytes <= payloadBudget, oldOk = oldBytes <= payloadBudget;
            if (ok != oldOk) return ok;
            if (!ok) return bytes < oldBytes;
            return r.SnrDb > old.SnrDb || (r.SnrDb == old.SnrDb && bytes < oldBytes);
        }
        if (values.IsEmpty)
        {
            best.Try(values, baseSettings, scratch, Better);
            return best.ToOutcome();
        }
        double energy = 0;
        foreach (float x in values) if (float.IsFinite(x)) energy += (double)x * x;
        int n = values.Length;
        int[] survivorArray = ArrayPool<int>.Shared.Rent(n);
        try
        {
            foreach (float keep in KeepRatios)
            {
                var settings = baseSettings.With(keepRatio: keep, blocks: SlicerSettings.Default.Blocks);
                int k = settings.SurvivorsFor(n);
                if (best.Payload is not null && best.Payload.Length <= payloadBudget && keep < 1)
                {
                    double dropped = DroppedEnergy(values, settings, survivorArray.AsSpan(0, k), energy);
                    double ceiling = dropped == 0 ? double.PositiveInfinity : 10 * Math.Log10(energy / dropped);
                    if (ceiling <= best.Result.SnrDb) continue; // dropping this much is already worse than the best
                }
                // Coarsest first: if even the largest delta does not fit, finer settings will not either.
                var (_, coarseBytes) = best.Try(values, settings.With(delta: SlicerSettings.MaxDelta), scratch, Better);
                if (coarseBytes > payloadBudget) continue;
                double lo = -9, hi = Math.Log10(SlicerSettings.MaxDelta); // log10(delta): hi fits
                for (int step = 0; step < ByteBisectionSteps; step++)
                {
                    double mid = (lo + hi) / 2;
                    var (_, bytes) = best.Try(values, settings.With(delta: (float)Math.Pow(10, mid)), scratch, Better);
                    if (bytes <= payloadBudget) hi = mid; else lo = mid;
                }
            }
        }
        finally { ArrayPool<int>.Shared.Return(survivorArray); }
        return best.ToOutcome();
    }
}
