using Cleave.Cli.Infrastructure;

namespace Cleave.Cli.Tests;

/// <summary>Per-image progress: one redrawn line on a terminal, a line every few seconds in a log, no closing line after a failure.</summary>
public sealed class ProgressTests
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void A_redirected_run_writes_a_line_every_few_seconds_not_one_per_image()
    {
        var clock = new ManualClock();
        string log = CliRunner.CaptureStderr(() =>
        {
            using var progress = new Progress("eval", 1000, terminal: false, clock);
            for (int i = 0; i < 1000; i++)
            {
                progress.Report(i, $"image{i}.jpg");
                clock.Advance(TimeSpan.FromMilliseconds(30)); // 30 s in all
            }
        });
        var lines = CommandDispatchTests.Lines(log);
        // The first image, one line per 5 s (6 of them at most), and the closing line.
        Assert.InRange(lines.Length, 3, 8);
        Assert.StartsWith("eval: [1/1000] image0.jpg", lines[0], StringComparison.Ordinal);
        Assert.Equal("eval: 1000/1000 in 30.0s", lines[^1]);
    }

    [Fact]
    public void A_terminal_run_redraws_one_line()
    {
        var clock = new ManualClock();
        string screen = CliRunner.CaptureStderr(() =>
        {
            using var progress = new Progress("sweep", 50, terminal: true, clock);
            for (int i = 0; i < 50; i++)
            {
                progress.Report(i, $"image{i}.jpg");
                clock.Advance(TimeSpan.FromMilliseconds(50));
            }
        });
        // Redraws start with \r and end without a newline; the only newline ends the closing line.
        Assert.Equal(1, screen.Count(c => c == '\n'));
        Assert.True(screen.Count(c => c == '\r') > 5);
        Assert.EndsWith("sweep: 50/50 in 2.5s\n", screen.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_that_stops_part_way_does_not_say_it_finished()
    {
        var clock = new ManualClock();
        string log = CliRunner.CaptureStderr(() =>
        {
            try
            {
                using var progress = new Progress("eval", 10, terminal: false, clock);
                for (int i = 0; i < 10; i++)
                {
                    progress.Report(i, "x");
                    if (i == 3) throw new InvalidDataException("bad image");
                }
            }
            catch (InvalidDataException) { }
        });
        Assert.DoesNotContain("10/10", log, StringComparison.Ordinal);
        Assert.DoesNotContain("done", log, StringComparison.Ordinal);
    }
}
