using System.Collections.Immutable;
using System.Globalization;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>Where a service runs: a cloud region, its local clock, its share of the traffic, its egress addresses.</summary>
public sealed record SiteSpec(string Network, LocalClock Clock, double Weight, int EgressAddresses);

/// <summary>
/// A service template: who owns it, what it calls, where it runs and the shape of its traffic. Each
/// template carries one of the benign traffic shapes that embarrass a naive rule.
/// </summary>
public sealed record ServiceSpec
{
    public required string Name { get; init; }
    public required string Team { get; init; }
    public required string Owner { get; init; }
    public required string Provider { get; init; }

    /// <summary>The declared models; the first is the main one.</summary>
    public required ImmutableArray<string> Models { get; init; }

    public required ImmutableArray<string> Operations { get; init; }
    public required string UserAgent { get; init; }
    public required ImmutableArray<SiteSpec> Sites { get; init; }

    /// <summary>Business-hours requests a minute, all production keys together.</summary>
    public required double Peak { get; init; }

    /// <summary>Weekend level relative to weekdays.</summary>
    public required double Weekend { get; init; }

    public required double InputMedian { get; init; }
    public double InputSigma { get; init; } = 0.8;
    public double OutputMedian { get; init; }
    public double OutputSigma { get; init; } = 0.6;

    /// <summary>The office network of its developers; their home network is in the same country.</summary>
    public required string Office { get; init; }

    public required string Home { get; init; }

    /// <summary>Moves its traffic from the first model to the second partway through (both declared).</summary>
    public bool MigratesModel { get; init; }

    /// <summary>Its production key is rotated in the middle of the run; the old key expires a day later.</summary>
    public bool RotatesKey { get; init; }

    /// <summary>A nightly batch run far above the daytime rate.</summary>
    public bool NightlyBatch { get; init; }

    /// <summary>Day-over-day growth factor (1 for none).</summary>
    public double DailyGrowth { get; init; } = 1;

    /// <summary>A product launch multiplies the traffic by this for good (1 for none).</summary>
    public double Launch { get; init; } = 1;

    /// <summary>Declares its countries in the inventory.</summary>
    public bool DeclaresCountries { get; init; }

    /// <summary>Declares its egress ranges in the inventory.</summary>
    public bool DeclaresCidrs { get; init; }

    /// <summary>Its development key's owner travels abroad for a few days.</summary>
    public bool DeveloperTravels { get; init; }

    /// <summary>
    /// How its team wants a key contained when a listed rule fires (the inventory's <c>response</c>): for a LiteLLM
    /// proxy's virtual keys, clamp them at once; null for the services that leave containment to an analyst.
    /// </summary>
    public AutoClamp? Response { get; init; }

    public bool EmbeddingsOnly => Operations is ["embeddings"];

    public string Oncall => "pagerduty:" + Team + "-oncall";
}

/// <summary>A team's automatic containment of its LiteLLM virtual keys: the rules that clamp without an analyst, and the limits.</summary>
public sealed record AutoClamp(ImmutableArray<string> Rules, long Rpm, long Tpm);

/// <summary>The service templates, most telling first, so that a small <c>--services</c> keeps the traps that matter.</summary>
public static class ServiceCatalog
{
    public static readonly ImmutableArray<ServiceSpec> Templates =
    [
        new()
        {
            Name = "support-bot", Team = "support", Owner = "maya.chen@example.com", Provider = "openai",
            Models = ["gpt-4o", "gpt-4.1", "gpt-4o-mini"], Operations = ["chat"], UserAgent = "OpenAI/Python 1.51.2",
            Sites = [new("aws-us-east-1", LocalClock.NewYork, 1, 3)], Peak = 8, Weekend = 0.35,
            InputMedian = 900, InputSigma = 0.9, OutputMedian = 260, OutputSigma = 0.7,
            Office = "comcast-office", Home = "att-home", MigratesModel = true, DeveloperTravels = true,
        },
        new()
        {
            Name = "search-embed", Team = "search", Owner = "dana.ortiz@example.com", Provider = "openai",
            Models = ["text-embedding-3-small"], Operations = ["embeddings"], UserAgent = "OpenAI/Python 1.47.0",
            Sites = [new("gcp-us-central1", LocalClock.Chicago, 1, 8)], Peak = 10, Weekend = 0.3,
            InputMedian = 180, InputSigma = 0.6, Office = "comcast-office", Home = "att-home", DeclaresCidrs = true,
        },
        new()
        {
            Name = "billing-insights", Team = "finance", Owner = "lars.becker@example.com", Provider = "openai",
            Models = ["gpt-4o-mini"], Operations = ["chat"], UserAgent = "OpenAI/JS 4.67.3",
            Sites = [new("aws-eu-west-1", LocalClock.Dublin, 1, 2)], Peak = 3, Weekend = 0.2,
            InputMedian = 1400, OutputMedian = 300, Office = "telekom-office", Home = "vodafone-home",
            RotatesKey = true, DeclaresCountries = true,
        },
        new()
        {
            Name = "nightly-etl", Team = "data", Owner = "priya.nair@example.com", Provider = "openai",
            Models = ["gpt-4o-mini", "gpt-4.1-mini"], Operations = ["chat"], UserAgent = "OpenAI/Python 1.51.2",
            Sites = [new("aws-us-east-1", LocalClock.NewYork, 1, 12)], Peak = 2.5, Weekend = 0.4,
            InputMedian = 1200, InputSigma = 0.7, OutputMedian = 180, Office = "comcast-office", Home = "att-home",
            NightlyBatch = true,
        },
        new()
        {
            Name = "assistant", Team = "platform", Owner = "sam.okafor@example.com", Provider = "anthropic",
            Models = ["claude-sonnet-4", "claude-3-5-haiku"], Operations = ["chat"], UserAgent = "Anthropic/Python 0.39.0",
            Sites =
            [
                new("aws-us-east-1", LocalClock.NewYork, 0.5, 4),
                new("aws-eu-west-1", LocalClock.Dublin, 0.3, 3),
                new("azure-southeastasia", LocalClock.Singapore, 0.2, 3),
            ],
            Peak = 9, Weekend = 0.3, InputMedian = 1100, InputSigma = 0.9, OutputMedian = 350, OutputSigma = 0.8,
            Office = "comcast-office", Home = "att-home", DailyGrowth = 1.012, DeclaresCountries = true,
        },
        new()
        {
            Name = "sales-copilot", Team = "sales", Owner = "tom.reyes@example.com", Provider = "anthropic",
            Models = ["claude-3-5-haiku", "claude-sonnet-4"], Operations = ["chat"], UserAgent = "Anthropic/JS 0.32.1",
            Sites = [new("gcp-us-central1", LocalClock.LosAngeles, 1, 4)], Peak = 3, Weekend = 0.25,
            InputMedian = 700, OutputMedian = 220, OutputSigma = 0.7, Office = "comcast-office", Home = "att-home",
            Launch = 3,
        },
        new()
        {
            // Calls OpenAI and Anthropic models through the company's LiteLLM proxy with a virtual key; its team has
            // the proxy clamp the key at once (LiteLLM /key/update, cheap to undo) when a rule of spend or of a
            // thief's habits fires: volume, tokens, a new country with many tokens, model probing.
            Name = "research-agent", Team = "research", Owner = "noor.haddad@example.com", Provider = "litellm",
            Models = ["gpt-4.1-mini", "claude-3-5-haiku"], Operations = ["chat"], UserAgent = "OpenAI/Python 1.51.2",
            Sites = [new("aws-us-east-1", LocalClock.NewYork, 1, 2)], Peak = 4, Weekend = 0.3,
            InputMedian = 2200, InputSigma = 0.8, OutputMedian = 420, OutputSigma = 0.6, Office = "comcast-office", Home = "att-home",
            Response = new(["llm-key-rpm-above-baseline", "llm-key-tokens-per-hour-above-baseline", "llm-key-output-token-drain", "llm-key-new-country-high-tokens", "llm-key-model-probing"], Rpm: 10, Tpm: 20_000),
        },
        new()
        {
            Name = "doc-summarizer", Team = "legal", Owner = "ines.moreau@example.com", Provider = "openai",
            Models = ["gpt-4.1-mini"], Operations = ["chat"], UserAgent = "OpenAI/Python 1.51.2",
            Sites = [new("azure-westeurope", LocalClock.Amsterdam, 1, 2)], Peak = 2.5, Weekend = 0.25,
            InputMedian = 6000, OutputMedian = 500, OutputSigma = 0.5, Office = "telekom-office", Home = "vodafone-home",
            DailyGrowth = 1.015,
        },
        new()
        {
            Name = "translate", Team = "i18n", Owner = "jonas.weber@example.com", Provider = "vertex",
            Models = ["gemini-2.0-flash"], Operations = ["chat"], UserAgent = "google-genai-sdk/1.2.0 gl-python/3.12.4",
            Sites = [new("azure-westeurope", LocalClock.Berlin, 1, 3)], Peak = 5, Weekend = 0.3,
            InputMedian = 500, InputSigma = 0.7, OutputMedian = 450, Office = "telekom-office", Home = "vodafone-home",
        },
    ];

    /// <summary>The first <paramref name="count"/> services; past the list, the last two templates repeat with a number.</summary>
    public static ImmutableArray<ServiceSpec> Take(int count)
    {
        var result = ImmutableArray.CreateBuilder<ServiceSpec>(count);
        for (var i = 0; i < count; i++)
        {
            if (i < Templates.Length)
            {
                result.Add(Templates[i]);
                continue;
            }
            var extra = i - Templates.Length;
            var template = Templates[Templates.Length - 2 + (extra % 2)];
            result.Add(template with { Name = template.Name + "-" + (2 + (extra / 2)).ToString(CultureInfo.InvariantCulture), DailyGrowth = 1 });
        }
        return result.MoveToImmutable();
    }
}
