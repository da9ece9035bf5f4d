using System.Security.Cryptography;
using System.Text;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>
/// A LiteLLM virtual key as the proxy's <c>/key/generate</c> makes one (<c>sk-</c> and 16 random bytes in URL-safe
/// base64, 25 characters) and the token the proxy stores, logs and accepts in <c>/key/block</c> and <c>/key/update</c>:
/// its SHA-256 in hex. The simulated inventory carries only the token hash, never the key.
/// </summary>
public static class LiteLlmVirtualKey
{
    /// <summary>The virtual key drawn from the simulation's seed for one key (the same seed, the same key); never written.</summary>
    public static string Generate(ulong seed, int keyIndex)
    {
        var r = new SimulationRandom(seed, 3000 + (ulong)keyIndex);
        var bytes = new byte[16];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)r.Next(256);
        }
        return "sk-" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The token LiteLLM stores for a virtual key: its SHA-256 in lower-case hex.</summary>
    public static string TokenHash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(key)));
}
