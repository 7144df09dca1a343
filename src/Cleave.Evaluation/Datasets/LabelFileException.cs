namespace Cleave.Evaluation.Datasets;

/// <summary>A label file (labels.csv, a wnid list) that cannot be read: the message names the file, the line and what is wrong.</summary>
public sealed class LabelFileException(string message) : FormatException(message);
