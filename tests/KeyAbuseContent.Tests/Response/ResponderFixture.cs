using System.Collections.Immutable;
using KeyAbuseContent.Responder;
using KeyAbuseContent.Responder.Local;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyAbuseContent.Tests.Response;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>The local provider servers, an inventory of one key a provider, and a responder wired to them.</summary>
internal sealed class ResponderFixture : IAsyncDisposable
{
    public const string Secret = "a-shared-secret-of-at-least-32-characters";
    public static readonly DateTimeOffset Start = new(2026, 12, 7, 6, 0, 0, TimeSpan.Zero);

    public required LocalProviders Local { get; init; }
    public required ResponderSettings Settings { get; init; }
    public required AlertResponder Responder { get; init; }
    public required ManualClock Clock { get; init; }
    public required ActionLog Log { get; init; }

    public static readonly ImmutableArray<ResponseKey> Keys =
    [
        new("proxy-auto", "litellm", "ana@example.com", "search", "search-api", "search-oncall", null, "hashed-token-1", new ContainmentPolicy(["llm-key-rpm-above-baseline"], LiteLlmContainment.Block, null, null, null)),
        new("proxy-clamp", "litellm", "bo@example.com", "ads", "ads-api", "search-oncall", null, "hashed-token-2", new ContainmentPolicy(["llm-key-rpm-above-baseline"], LiteLlmContainment.Clamp, 10, 1000, 5.0)),
        new("oa-key", "openai", "cy@example.com", "billing", "billing-api", "billing-pager", "proj_abc", "key_abc", new ContainmentPolicy(["llm-key-rpm-above-baseline"], LiteLlmContainment.Block, null, null, null)),
        new("ant-key", "anthropic", "di@example.com", "platform", "assistant", "search-oncall", null, "apikey_01abc", ContainmentPolicy.None),
        new("orphan", "litellm", null, null, null, null, null, "hashed-token-3", ContainmentPolicy.None),
        new("hooked", "vertex", "ed@example.com", "i18n", "translate", "i18n-hook", null, "hooked", ContainmentPolicy.None),
    ];

    public static async Task<ResponderFixture> StartAsync(int maxAttempts = 4)
    {
        var local = await LocalProviders.StartAsync();
        local.LiteLlmKeys["hashed-token-1"] = new() { ["token"] = "hashed-token-1", ["blocked"] = false };
        local.LiteLlmKeys["hashed-token-2"] = new() { ["token"] = "hashed-token-2", ["blocked"] = false };
        local.LiteLlmKeys["hashed-token-3"] = new() { ["token"] = "hashed-token-3", ["blocked"] = false };
        local.OpenAiKeys[("proj_abc", "key_abc")] = false;
        local.AnthropicKeys["apikey_01abc"] = "active";
        var clock = new ManualClock(Start);
        var settings = new ResponderSettings
        {
            Secret = System.Text.Encoding.UTF8.GetBytes(Secret),
            DefaultRoute = "secops",
            PublicUrl = new Uri("https://responder.example.com"),
            MaxAttempts = maxAttempts,
            BaseBackoff = TimeSpan.Zero,
            MaxBackoff = TimeSpan.Zero,
            LiteLlm = new ProviderEndpoint(local.LiteLlmUrl, LocalProviders.LiteLlmMasterKey),
            OpenAi = new ProviderEndpoint(local.OpenAiUrl, LocalProviders.OpenAiAdminKey),
            Anthropic = new ProviderEndpoint(local.AnthropicUrl, LocalProviders.AnthropicAdminKey),
            PagerDutyEventsUrl = local.PagerDutyUrl,
            Routes = ImmutableDictionary<string, ImmutableArray<RouteChannel>>.Empty
                .Add("search-oncall", [new RouteChannel(ChannelKind.Slack, local.SlackUrl.ToString(), null)])
                .Add("billing-pager", [new RouteChannel(ChannelKind.PagerDuty, new string('r', 32), null)])
                .Add("i18n-hook", [new RouteChannel(ChannelKind.Webhook, local.WebhookUrl.ToString(), "hook-signing-secret-0123456789abcdef")])
                .Add("secops", [new RouteChannel(ChannelKind.Slack, local.SlackUrl.ToString(), null)]),
        };
        var log = new ActionLog();
        var responder = new AlertResponder(settings, new ResponseInventory(Keys), new HttpClient(), log, clock, NullLogger.Instance);
        return new ResponderFixture { Local = local, Settings = settings, Responder = responder, Clock = clock, Log = log };
    }

    public static IncomingAlert Alert(string keyId, string rule = "llm-key-rpm-above-baseline", string severity = "high", string time = "2026-12-07T05:55:00Z") =>
        new(rule, keyId, severity, $"Key {keyId}: 900 requests/min", "900 requests in a minute, 9x its baseline of 100.", time, null, null, null, null);

    public ValueTask DisposeAsync() => Local.DisposeAsync();
}
