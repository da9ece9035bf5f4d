using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace KeyAbuseContent.Responder;

/// <summary>Why a signed request was refused.</summary>
public enum SignatureProblem
{
    None,
    Missing,
    Malformed,
    Expired,
    Mismatch,
    Replayed,
}

/// <summary>
/// HMAC-SHA256 signatures of webhook bodies, as <c>X-KeyAbuse-Signature: t=UNIX,v1=HEX</c> over <c>"{t}.{body}"</c>
/// (the timestamp is signed, so a captured request cannot be replayed later with a new one). A signature is
/// accepted once, and only within the tolerance of the responder's clock.
/// </summary>
public sealed class WebhookSignature(byte[] secret, TimeProvider time, TimeSpan tolerance)
{
    public const string Header = "X-KeyAbuse-Signature";

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    /// <summary>The header value signing <paramref name="body"/> at <paramref name="at"/>.</summary>
    public static string Sign(byte[] secret, string body, DateTimeOffset at)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={t},v1={Hex(secret, t + "." + body)}";
    }

    public string Sign(string body) => Sign(secret, body, time.GetUtcNow());

    internal static string Hex(byte[] secret, string text) => Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(text)));

    public SignatureProblem Verify(string? header, string body)
    {
        if (string.IsNullOrEmpty(header))
        {
            return SignatureProblem.Missing;
        }
        string? t = null, v1 = null;
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal))
            {
                t = part[2..];
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal))
            {
                v1 = part[3..];
            }
        }
        if (t is null || v1 is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || v1.Length != 64)
        {
            return SignatureProblem.Malformed;
        }
        var expected = Encoding.ASCII.GetBytes(Hex(secret, t + "." + body));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(v1.ToLowerInvariant())))
        {
            return SignatureProblem.Mismatch;
        }
        var now = time.GetUtcNow();
        var at = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if ((now - at).Duration() > tolerance)
        {
            return SignatureProblem.Expired;
        }
        foreach (var old in _seen.Where(s => s.Value < now - (2 * tolerance)).Select(s => s.Key).ToList())
        {
            _seen.TryRemove(old, out _);
        }
        return _seen.TryAdd(v1, at) ? SignatureProblem.None : SignatureProblem.Replayed;
    }
}
