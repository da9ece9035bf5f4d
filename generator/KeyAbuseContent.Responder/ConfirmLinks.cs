using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace KeyAbuseContent.Responder;

/// <summary>Why a confirmation was refused.</summary>
public enum ConfirmProblem
{
    None,
    Malformed,
    BadSignature,
    Expired,
    Used,
}

/// <summary>
/// Signed, expiring, single-use confirmation tokens: <c>{id}.{expiry}.{hmac}</c>, the HMAC over the containment id and
/// its expiry. The id names a containment the responder holds; once confirmed (or expired) it is gone, so a replayed
/// link is refused.
/// </summary>
public sealed class ConfirmLinks(byte[] secret, TimeProvider time)
{
    public string Create(string id, DateTimeOffset expires)
    {
        var e = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"{id}.{e}.{Mac(id, e)}";
    }

    private string Mac(string id, string expiry) => WebhookSignature.Hex(secret, "confirm." + id + "." + expiry);

    /// <summary>Checks the token's form, signature and expiry; the caller checks it is still held (single use).</summary>
    public (ConfirmProblem Problem, string? Id) Check(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expiry) || parts[2].Length != 64)
        {
            return (ConfirmProblem.Malformed, null);
        }
        var expected = Encoding.ASCII.GetBytes(Mac(parts[0], parts[1]));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[2])))
        {
            return (ConfirmProblem.BadSignature, null);
        }
        return time.GetUtcNow() > DateTimeOffset.FromUnixTimeSeconds(expiry) ? (ConfirmProblem.Expired, parts[0]) : (ConfirmProblem.None, parts[0]);
    }
}
