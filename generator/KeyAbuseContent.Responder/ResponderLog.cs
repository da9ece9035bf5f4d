using Microsoft.Extensions.Logging;

namespace KeyAbuseContent.Responder;

/// <summary>The responder's log messages (source-generated, so a disabled level costs nothing).</summary>
internal static partial class ResponderLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "refused: {Reason} (rule {Rule}, key {KeyId})")]
    public static partial void Refused(ILogger logger, string reason, string? rule, string? keyId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Action}: the provider's base URL or admin secret is not configured")]
    public static partial void NotConfigured(ILogger logger, string action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Action} for key {KeyId}: {Status}, not retried: {Detail}")]
    public static partial void NotRetried(ILogger logger, string action, string? keyId, int? status, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Action} for key {KeyId}: gave up after {Attempts} attempts: {Status} {Detail}")]
    public static partial void GaveUp(ILogger logger, string action, string? keyId, int attempts, int? status, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Action} for key {KeyId}: {Status}, retrying in {Backoff}")]
    public static partial void Retrying(ILogger logger, string action, string? keyId, int? status, TimeSpan backoff);
}
