using System.Globalization;
using Cleave.Planning.Profiles;

namespace Cleave.Planning.Planner;

/// <summary>One model of a multi-model plan: a short name (unique in the set, used in configuration ids), its file and its profile.</summary>
public sealed record ModelEntry(string Name, string? Path, PlanningProfile? Profile);

/// <summary>
/// Several models that solve the same task, planned over together (NASC-style joint model and cut search): each
/// model's configurations (full local, offload, cut x codec) from its own profile, all in one candidate list, with
/// accuracy drops measured from the <b>best model's</b> unsplit top-1, so a smaller model's own loss counts. That is
/// only meaningful when every profile measured the same labelled images for the same classes; <see cref="Create"/>
/// refuses a list where that is not so (<see cref="ModelSetException"/>). Input spatial sizes may differ (each model's
/// preprocessing crops the same photo to its own size); the input's rank and channels may not.
/// </summary>
public sealed class ModelSet
{
    private ModelSet(IReadOnlyList<ModelEntry> models, double bestFullTop1, string bestModel)
    {
        Models = models;
        BestFullTop1 = bestFullTop1;
        BestModel = bestModel;
    }

    public IReadOnlyList<ModelEntry> Models { get; }

    /// <summary>The highest unsplit top-1 among the models (fraction), the reference of every drop.</summary>
    public double BestFullTop1 { get; }
    public string BestModel { get; }

    public PlanningProfile Profile(string model) =>
        Models.FirstOrDefault(m => m.Name == model)?.Profile ?? throw new KeyNotFoundException($"the model set has no model '{model}'");

    /// <summary>Checks the list (see the class remarks) and finds the reference model.</summary>
    public static ModelSet Create(IReadOnlyList<ModelEntry> models)
    {
        if (models is null || models.Count == 0)
            throw new ModelSetException(ModelSetError.Empty, "the model list is empty: give at least one model (--models \"A.onnx;B.onnx\")");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in models)
        {
            if (string.IsNullOrWhiteSpace(m.Name)) throw new ModelSetException(ModelSetError.Empty, "a model in the list has an empty name");
            if (!names.Add(m.Name)) throw new ModelSetException(ModelSetError.Duplicate, $"the model '{m.Name}' is listed twice");
            var p = m.Profile ?? throw new ModelSetException(ModelSetError.MissingProfile, $"the model '{m.Name}' has no profile (collect one with `cleave plan --model {m.Path ?? m.Name} --profile-only`)");
            if (p.InputShape.Count == 0 || p.Classes <= 0 || p.CalibrationSha256 is null)
                throw new ModelSetException(ModelSetError.MissingProfile,
                    $"the profile of '{m.Name}' records no input shape, classes or calibration hash (collected before 2026-12-02): collect it again with --recollect");
            if (p.ModelSha256.Length > 0 && hashes.TryGetValue(p.ModelSha256, out string? twin))
                throw new ModelSetException(ModelSetError.Duplicate, $"'{m.Name}' and '{twin}' are the same model (SHA-256 {p.ModelSha256[..Math.Min(12, p.ModelSha256.Length)]}...)");
            if (p.ModelSha256.Length > 0) hashes[p.ModelSha256] = m.Name;
        }

        var first = models[0];
        var a = first.Profile!;
        foreach (var m in models.Skip(1))
        {
            var b = m.Profile!;
            if (b.Classes != a.Classes)
                throw Inconsistent($"'{m.Name}' has {b.Classes} classes and '{first.Name}' {a.Classes}: the models must share one label set");
            if (b.InputShape.Count != a.InputShape.Count || Channels(b) != Channels(a))
                throw Inconsistent($"'{m.Name}' takes input {Shape(b.InputShape)} and '{first.Name}' {Shape(a.InputShape)}: the models must take the same kind of input " +
                                   "(the same rank and channels; only the spatial size may differ)");
            if (b.Images != a.Images || b.CalibrationSha256 != a.CalibrationSha256)
                throw Inconsistent($"'{m.Name}' was calibrated on other images than '{first.Name}' ({b.Images} vs {a.Images} images" +
                                   $"{(b.Images == a.Images ? ", other files or labels" : "")}): accuracies compare only on the same labelled images");
        }
        var best = models.MaxBy(m => m.Profile!.FullTop1)!;
        return new ModelSet(models, best.Profile!.FullTop1, best.Name);
    }

    /// <summary>
    /// Every model's configurations for the hardware, ids prefixed with the model's name (<c>NAME/local</c>,
    /// <c>NAME/split:TENSOR|CODEC</c>), drops in points below <see cref="BestFullTop1"/>.
    /// </summary>
    public IReadOnlyList<Configuration> Configurations(Hardware hardware)
    {
        ArgumentNullException.ThrowIfNull(hardware);
        if (hardware.DeviceProfile is not null)
            throw new ArgumentException("a device profile describes one model; with several models give --device-speed instead", nameof(hardware));
        var all = new List<Configuration>();
        foreach (var m in Models)
            all.AddRange(ConfigurationBuilder.Build(m.Profile!, hardware).Select(c => c with
            {
                Id = QualifiedId(m.Name, c.Id), Model = m.Name, DropPoints = 100 * (BestFullTop1 - c.Top1),
            }));
        return all;
    }

    /// <summary>The accuracy budget for an absolute top-1 floor (percent): the drop from the best model that reaches it.</summary>
    public double DropBudgetFor(double minTop1Percent)
    {
        if (!(minTop1Percent is >= 0 and <= 100)) throw new ArgumentOutOfRangeException(nameof(minTop1Percent), minTop1Percent, "a top-1 floor is a percentage in [0, 100]");
        return Math.Max(0, 100 * BestFullTop1 - minTop1Percent);
    }

    public static string QualifiedId(string model, string id) => $"{model}/{id}";

    /// <summary>The model-local id of a qualified one (what the model's own plan calls it).</summary>
    public static string LocalId(Configuration c) => c.Model is null ? c.Id : c.Id[(c.Model.Length + 1)..];

    /// <summary>A short name from a path: the file name without its extension.</summary>
    public static string NameOf(string path) => System.IO.Path.GetFileNameWithoutExtension(path);

    private static long Channels(PlanningProfile p)
    {
        // NCHW images carry channels second, NHWC last; what both agree on is the smaller of the two.
        if (p.InputShape.Count != 4) return p.InputShape.Count > 1 ? p.InputShape[1] : 0;
        return Math.Min(p.InputShape[1], p.InputShape[3]);
    }

    private static string Shape(IReadOnlyList<long> shape) => "[" + string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static ModelSetException Inconsistent(string message) => new(ModelSetError.Inconsistent, message);
}
