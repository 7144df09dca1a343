namespace Cleave.Training.Data;

/// <summary>
/// A fixed, indexable set of training examples of one shape (float tensors without the batch dimension) with an
/// optional class label each. Batching, shuffling and augmentation live in <see cref="BatchLoader"/>, so every source
/// (Fashion-MNIST, image folders, cached head features) gets them the same way.
/// </summary>
public interface IExampleSet
{
    int Count { get; }

    /// <summary>Shape of one example, e.g. [3, 224, 224].</summary>
    long[] ExampleShape { get; }

    /// <summary>Number of classes, or 0 for unlabelled data (distillation).</summary>
    int ClassCount { get; }

    /// <summary>Writes example <paramref name="index"/> into <paramref name="destination"/> (length = product of the shape).</summary>
    void Fill(int index, Span<float> destination);

    /// <summary>The class of example <paramref name="index"/>, or -1 when unlabelled.</summary>
    int Label(int index);
}
