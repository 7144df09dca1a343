using Cleave.Models.EarlyExit;

namespace Cleave.Evaluation.Classification;

/// <summary>Running counts of one operating point's early exit while an evaluation walks the images.</summary>
internal sealed class ExitTally(double threshold, bool calibrated, long tailMacs, ExitCalibration? curve)
{
    private int _exited, _exitCorrect, _sent, _sentCorrect;
    private long _bytesSaved;
    private double _tailMsSaved, _exitMs;

    /// <summary>One image: answered on the device or sent, right or not, its frame's size and the server time it did or did not cost.</summary>
    public void Count(bool exited, bool correct, int frameBytes, double serverMs, double exitMs)
    {
        _exitMs += exitMs;
        if (exited)
        {
            _exited++;
            if (correct) _exitCorrect++;
            _bytesSaved += frameBytes;
            _tailMsSaved += serverMs;
        }
        else
        {
            _sent++;
            if (correct) _sentCorrect++;
        }
    }

    public ExitResult ToResult() => new()
    {
        Threshold = threshold, Calibrated = calibrated, Exited = _exited, ExitCorrect = _exitCorrect, Sent = _sent, SentCorrect = _sentCorrect,
        BytesSaved = _bytesSaved, TailMacs = tailMacs, TailMsSaved = _tailMsSaved, ExitMs = _exitMs / Math.Max(1, _exited + _sent), Curve = curve,
    };
}
