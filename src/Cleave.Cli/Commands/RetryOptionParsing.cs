using Cleave.Cli.Infrastructure;
using Cleave.Runtime.Client;

namespace Cleave.Cli.Commands;

/// <summary>How <c>client</c>, <c>loadtest</c> and <c>generate --server</c> retry: until a deadline by default, or a given number of times.</summary>
internal static class RetryOptionParsing
{
    public static readonly string[] Options = ["retries", "deadline-ms"];

    public const string Help =
        "  --retries N         retries of transient failures (refusals with a retry hint, a lost or refused connection,\n" +
        "                      a try's timeout), same idempotency id, with jittered exponential backoff (50 ms doubling\n" +
        "                      to 2 s); default: until the deadline. --retries 0 sends each request once. The first\n" +
        "                      connect retries the same way (a client started while its server restarts waits for it)\n" +
        "  --deadline-ms T     how long a request (a generation step) keeps being retried, e.g. through a server restart\n" +
        "                      (default 60000); then it fails with a typed error";

    public static RetryPolicy Parse(CommandLine cl)
    {
        var policy = RetryPolicy.Default;
        if (cl.Has("deadline-ms"))
        {
            double ms = cl.GetDouble("deadline-ms", policy.Deadline.TotalMilliseconds);
            if (!(ms > 0)) throw new UsageException("--deadline-ms must be positive");
            policy = policy with { Deadline = TimeSpan.FromMilliseconds(ms) };
        }
        if (cl.Has("retries"))
        {
            int retries = cl.GetInt("retries", 0);
            if (retries < 0) throw new UsageException("--retries must be 0 or more");
            policy = policy.WithRetries(retries);
        }
        return policy;
    }
}
