using Microsoft.Extensions.Hosting;

namespace Cleave.Runtime.Serving;

/// <summary>
/// A host lifetime that takes no process signals: a <see cref="SplitServer"/> lives inside someone else's program
/// (a test, a CLI verb, an app), which decides when to dispose it. The default console lifetime would swallow
/// SIGTERM and Ctrl+C for the whole process.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
