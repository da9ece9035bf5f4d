using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace KeyAbuseContent.Responder;

/// <summary>A provider's admin endpoint and the secret that authenticates to it.</summary>
public sealed record ProviderEndpoint(Uri BaseUrl, string? Secret);

/// <summary>Where a route delivers: Slack (incoming webhook URL), PagerDuty (routing key) or a generic signed webhook.</summary>
public enum ChannelKind
{
    Slack,
    PagerDuty,
    Webhook,
}

/// <summary>One channel of a route, with its secret (a URL or routing key) and, for webhooks, the signing secret.</summary>
public sealed record RouteChannel(ChannelKind Kind, string Secret, string? SigningSecret);

/// <summary>
/// The responder's configuration, from its environment and configuration files only (never from the bundle or an
/// alert): the shared secret, the provider admin endpoints and secrets, and the secrets behind each route name.
/// Environment variables use the <c>KEYABUSE_</c> prefix and <c>__</c> for sections:
/// <c>KEYABUSE_Responder__Secret</c>, <c>KEYABUSE_Providers__OpenAI__AdminKey</c>, <c>KEYABUSE_Routes__search-oncall__Slack</c>.
/// </summary>
public sealed class ResponderSettings
{
    public required byte[] Secret { get; init; }
    public required string DefaultRoute { get; init; }
    /// <summary>The responder's address as analysts reach it, for confirm links.</summary>
    public required Uri PublicUrl { get; init; }
    public TimeSpan ConfirmTtl { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan SignatureTolerance { get; init; } = TimeSpan.FromMinutes(5);
    public int MaxAttempts { get; init; } = 4;
    public TimeSpan BaseBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    public string? InventoryPath { get; init; }
    public string? ActionLogPath { get; init; }
    /// <summary>Kibana's webhook connector cannot sign a body; when set, it may authenticate with HTTP Basic (any user, this secret as password) instead.</summary>
    public bool AcceptBasicAuth { get; init; }
    public ProviderEndpoint? LiteLlm { get; init; }
    public ProviderEndpoint? OpenAi { get; init; }
    public ProviderEndpoint? Anthropic { get; init; }
    public Uri PagerDutyEventsUrl { get; init; } = new(KeyAbuseContent.Response.ResponseRequests.PagerDutyEventsUrl);
    public ImmutableDictionary<string, ImmutableArray<RouteChannel>> Routes { get; init; } = ImmutableDictionary<string, ImmutableArray<RouteChannel>>.Empty;

    /// <summary>The channels of a route name; empty when the configuration has none.</summary>
    public ImmutableArray<RouteChannel> Channels(string route) => Routes.TryGetValue(route, out var c) ? c : [];

    /// <summary>Reads the settings; every problem is reported at once.</summary>
    public static (ResponderSettings? Settings, ImmutableArray<string> Problems) From(IConfiguration config)
    {
        var problems = ImmutableArray.CreateBuilder<string>();
        var secret = config["Responder:Secret"];
        if (string.IsNullOrEmpty(secret) || secret.Length < 32)
        {
            problems.Add("Responder:Secret (KEYABUSE_Responder__Secret) must be set to at least 32 characters");
        }
        var publicUrl = config["Responder:PublicUrl"] ?? "http://127.0.0.1:8787";
        if (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var url))
        {
            problems.Add($"Responder:PublicUrl '{publicUrl}' is not an absolute URL");
        }
        var routes = ImmutableDictionary.CreateBuilder<string, ImmutableArray<RouteChannel>>(StringComparer.Ordinal);
        Collect(config.GetSection("Routes"), "", routes, problems);
        var defaultRoute = config["Responder:DefaultRoute"] ?? "default";
        if (!routes.ContainsKey(defaultRoute))
        {
            problems.Add($"the default route '{defaultRoute}' (Responder:DefaultRoute) has no channel under Routes:{defaultRoute}");
        }
        if (problems.Count > 0)
        {
            return (null, problems.ToImmutable());
        }
        return (new ResponderSettings
        {
            Secret = System.Text.Encoding.UTF8.GetBytes(secret!),
            DefaultRoute = defaultRoute,
            PublicUrl = url!,
            ConfirmTtl = Span(config["Responder:ConfirmTtl"], TimeSpan.FromHours(1)),
            SignatureTolerance = Span(config["Responder:SignatureTolerance"], TimeSpan.FromMinutes(5)),
            InventoryPath = config["Responder:Inventory"],
            ActionLogPath = config["Responder:ActionLog"],
            AcceptBasicAuth = string.Equals(config["Responder:AcceptBasicAuth"], "true", StringComparison.OrdinalIgnoreCase),
            LiteLlm = Endpoint(config, "LiteLLM", null, "MasterKey"),
            OpenAi = Endpoint(config, "OpenAI", "https://api.openai.com", "AdminKey"),
            Anthropic = Endpoint(config, "Anthropic", "https://api.anthropic.com", "AdminKey"),
            PagerDutyEventsUrl = new Uri(config["Providers:PagerDuty:EventsUrl"] ?? KeyAbuseContent.Response.ResponseRequests.PagerDutyEventsUrl),
            Routes = routes.ToImmutable(),
        }, []);
    }

    private static TimeSpan Span(string? text, TimeSpan fallback) => text is null ? fallback : TimeSpan.Parse(text, CultureInfo.InvariantCulture);

    private static ProviderEndpoint? Endpoint(IConfiguration config, string name, string? defaultUrl, string secretName)
    {
        var url = config[$"Providers:{name}:BaseUrl"] ?? defaultUrl;
        return url is null ? null : new ProviderEndpoint(new Uri(url), config[$"Providers:{name}:{secretName}"]);
    }

    /// <summary>
    /// A route is a section whose children are channels (Slack, PagerDuty, Webhook, WebhookSecret), or a leaf whose
    /// name says its channel: <c>pagerduty:search-oncall</c> is the routing key at <c>Routes:pagerduty:search-oncall</c>.
    /// </summary>
    private static void Collect(IConfigurationSection section, string prefix, ImmutableDictionary<string, ImmutableArray<RouteChannel>>.Builder routes, ImmutableArray<string>.Builder problems)
    {
        foreach (var child in section.GetChildren())
        {
            var name = prefix.Length == 0 ? child.Key : prefix + ":" + child.Key;
            if (child.Value is { } leaf)
            {
                if (Kind(prefix.Split(':')[0]) is { } kind)
                {
                    routes[name] = [new RouteChannel(kind, leaf, null)];
                }
                continue;
            }
            var channels = new List<RouteChannel>();
            // "pagerduty" above "search-oncall" is a group of leaf routes of one channel, not a route itself.
            var group = prefix.Length == 0 && Kind(child.Key) is not null;
            foreach (var c in child.GetChildren().Where(c => c.Value is not null && !group))
            {
                if (Kind(c.Key) is { } kind)
                {
                    channels.Add(new RouteChannel(kind, c.Value!, kind == ChannelKind.Webhook ? child["WebhookSecret"] : null));
                }
                else if (!c.Key.Equals("WebhookSecret", StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"Routes:{name}:{c.Key}: a route's channels are Slack, PagerDuty and Webhook (with WebhookSecret)");
                }
            }
            if (channels.Any(c => c.Kind == ChannelKind.Webhook && string.IsNullOrEmpty(c.SigningSecret)))
            {
                problems.Add($"Routes:{name}:Webhook needs Routes:{name}:WebhookSecret to sign what it sends");
            }
            if (channels.Count > 0)
            {
                routes[name] = [.. channels];
            }
            Collect(child, name, routes, problems);
        }
    }

    private static ChannelKind? Kind(string name) => name.ToLowerInvariant() switch
    {
        "slack" => ChannelKind.Slack,
        "pagerduty" => ChannelKind.PagerDuty,
        "webhook" => ChannelKind.Webhook,
        _ => null,
    };
}
