namespace Cleave.Runtime.Generation;

/// <summary>
/// The generation server could not be reached or the call broke (server down, restarting, a call past its
/// deadline): a transport failure, unlike <see cref="GenerationException"/>, which is the server's typed answer.
/// <see cref="SplitGenerator"/> retries it with backoff and resumes the session; it surfaces when the server
/// did not come back before the retry deadline.
/// </summary>
public sealed class GenerationUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
