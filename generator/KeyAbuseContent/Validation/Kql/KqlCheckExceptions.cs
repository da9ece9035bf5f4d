namespace KeyAbuseContent.Validation.Kql;

/// <summary>
/// The Kusto language service cannot run on this machine (node or the npm package is missing);
/// the message says what is missing and how to install it. Queries are never left unchecked silently.
/// </summary>
public sealed class KqlCheckUnavailableException(string message) : Exception(message);

/// <summary>The Kusto language service ran but did not answer: it failed, timed out or wrote something unreadable.</summary>
public sealed class KqlCheckFailedException(string message, Exception? inner = null) : Exception(message, inner);
