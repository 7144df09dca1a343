using Cleave.Training.Loop;

namespace Cleave.Training.Tasks;

/// <summary>
/// What a task-tail run produced. On the evaluation images: <see cref="EvaluationTop1"/> is the new tail's top-1 on
/// the task; <see cref="DefaultTailTop1"/> is the task answered from the default tail's top class (its category, for a
/// coarse task: the comparison with a model made for the task alone); <see cref="MajorityTop1"/> always answers the
/// most frequent training class.
/// </summary>
public sealed record TaskTailResult(
    TrainingSummary Summary,
    string TaskFile,
    int Classes,
    long Parameters,
    int EvaluationImages,
    double? EvaluationTop1,
    double? DefaultTailTop1,
    double? MajorityTop1,
    double CacheSeconds);
