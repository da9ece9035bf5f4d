using System.Collections.Immutable;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>An attack scenario: its stable label name, what it injects, and whether detecting it needs history.</summary>
public sealed record Scenario(string Name, string Injects, bool NeedsHistory);

/// <summary>Every attack scenario the simulator injects, in the order they are planned.</summary>
public static class ScenarioCatalog
{
    public const string VolumeBurstNewCountry = "volume-burst-new-country";
    public const string VolumeSameNetwork = "volume-10x-same-network";
    public const string LowAndSlow = "low-and-slow-long-prompts";
    public const string EmbeddingsKeyChat = "embeddings-key-chat";
    public const string PublicLeak = "public-leak-fanout";
    public const string ExpiredKeyUse = "expired-key-use";
    public const string ModelProbing = "model-probing";
    public const string ProxyTokenDrain = "proxy-token-drain";
    public const string CredentialStuffing = "credential-stuffing";

    public static readonly ImmutableArray<Scenario> All =
    [
        new(VolumeBurstNewCountry, "20-60 minutes at 30-100x the key's rate for the hour, from two VPS addresses in a country and AS the key never uses, on the provider's most expensive model, attacker user agent", true),
        new(VolumeSameNetwork, "45-120 minutes at 8-12x the key's rate, from new addresses inside the victim's own cloud region (same country, same AS), the main model, an old SDK's user agent", true),
        new(LowAndSlow, "2-4 days around the clock (at least 12 hours when the run ends sooner), one request every 2-7 minutes with 40k-120k-token prompts, from one or two residential or mobile addresses abroad", true),
        new(EmbeddingsKeyChat, "50-70 minutes of chat on gpt-4o and o1 at 2-5 requests a minute with an embeddings-only key, from a VPS", false),
        new(PublicLeak, "30-90 minutes of 200-500 addresses across many countries and networks, most arriving in the first minutes, 1-5 requests each", true),
        new(ExpiredKeyUse, "45-75 minutes at 1-4 requests a minute with the key rotated out mid-run, after the expiry the inventory gives it", false),
        new(ModelProbing, "models.list calls, then 30-120 requests for unknown models (404) and invalid parameters (400) within minutes, then 30-90 minutes on the most expensive model with long completions, from one VPS address", false),
        new(ProxyTokenDrain, "2-3 days around the clock (at least 12 hours when the run ends sooner) at a flat 3-8 requests a minute with 2k-16k-token completions, through two or three egress addresses of a reverse proxy abroad, forwarding its many clients' user agents", true),
        new(CredentialStuffing, "3-8 minutes of 200-600 refused (401) requests from one address: most on the victim key, the rest on 20-60 unknown key fingerprints", false),
    ];

    /// <summary>The scenario of a name, or null.</summary>
    public static Scenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>The names, comma-separated, for usage messages.</summary>
    public static string Names => string.Join(", ", All.Select(s => s.Name));
}
