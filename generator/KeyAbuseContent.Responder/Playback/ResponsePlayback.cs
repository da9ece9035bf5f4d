using System.Collections.Immutable;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Reporting;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Responder.Local;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyAbuseContent.Responder.Playback;

/// <summary>A clock the playback sets to each moment of the harness timeline.</summary>
public sealed class TimelineClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>When a key was contained on one target's timeline, and by which action.</summary>
public sealed record Containment(string KeyId, DateTime At, string Action);

/// <summary>One scenario's figures: attacks, detected, contained, mean time to detect and to revoke, successful requests stopped.</summary>
public sealed record ScenarioResponse(string Scenario, int Attacks, int Detected, int Contained, TimeSpan? MeanTimeToDetect, TimeSpan? MeanTimeToRevoke, long RequestsStopped, long TokensStopped)
{
    /// <summary>Attacks whose key's route was notified (a notification the channel accepted) within the attack or its grace.</summary>
    public int Notified { get; init; }

    /// <summary>From an attack's start to the first notification about its key, averaged over the attacks notified.</summary>
    public TimeSpan? MeanTimeToNotify { get; init; }
}

/// <summary>What the response did on one target: every action, the containments, the figures per scenario.</summary>
public sealed record PlaybackResult(Target Target, ImmutableArray<ActionRecord> Actions, ImmutableArray<Containment> Containments, ImmutableArray<ScenarioResponse> Scenarios, ImmutableArray<string> Notes);

/// <summary>
/// Plays the response on the harness timeline: each alert (in time order) goes through the responder logic against
/// the local provider servers at the alert's time; a held containment is confirmed by an analyst
/// <c>confirmDelay</c> later (an OpenAI key's deletion always waits for it); once a key is contained, its later events
/// are refused by the provider (401) and no longer count as successful use. Alerts below medium (inventory hygiene)
/// are not played, as they are not scored as detections. Time to revoke runs from the attack's start to the containment.
/// </summary>
public static class ResponsePlayback
{
    public static async Task<PlaybackResult> RunAsync(Dataset dataset, ResponseInventory inventory, IReadOnlyList<Alert> alerts, Target target, TimeSpan confirmDelay, CancellationToken cancellationToken = default)
    {
        await using var local = await LocalProviders.StartAsync(cancellationToken).ConfigureAwait(false);
        var notes = new List<string>();
        var keys = dataset.Inventory.Select(k => inventory.Find(k.Id)).OfType<ResponseKey>().Select(k => Prepare(k, local, notes)).ToList();
        var settings = Settings(local, keys);
        var clock = new TimelineClock(DateTimeOffset.UnixEpoch);
        var log = new ActionLog();
        using var http = new HttpClient();
        var responder = new AlertResponder(settings, new ResponseInventory(keys), http, log, clock, NullLogger.Instance);
        var contained = new Dictionary<string, Containment>(StringComparer.Ordinal);
        var pending = new List<(DateTime At, string Token, string KeyId)>();

        async Task ConfirmUntil(DateTime until)
        {
            foreach (var p in pending.Where(p => p.At <= until).OrderBy(p => p.At).ToList())
            {
                pending.Remove(p);
                clock.Now = new DateTimeOffset(p.At, TimeSpan.Zero);
                var outcome = await responder.ConfirmAsync(p.Token, cancellationToken).ConfigureAwait(false);
                if (outcome.Actions.FirstOrDefault(a => a.Action.StartsWith("contain.", StringComparison.Ordinal) && a.Ok) is { } done)
                {
                    contained.TryAdd(p.KeyId, new Containment(p.KeyId, p.At, done.Action));
                }
            }
        }

        foreach (var alert in alerts.Where(a => a.Target == target && a.KeyId is not null && RunReport.IsMediumOrAbove(a)).OrderBy(a => a.Time))
        {
            await ConfirmUntil(alert.Time).ConfigureAwait(false);
            if (contained.ContainsKey(alert.KeyId!) || pending.Any(p => p.KeyId == alert.KeyId))
            {
                continue;
            }
            clock.Now = new DateTimeOffset(alert.Time, TimeSpan.Zero);
            var incoming = new IncomingAlert(alert.Rule, alert.KeyId!, alert.Severity, alert.Title, alert.Summary, Alert.Iso(alert.Time), null, null, null, null);
            var handled = await responder.HandleAsync(incoming, cancellationToken).ConfigureAwait(false);
            if (handled.Actions.FirstOrDefault(a => a.Action.StartsWith("contain.", StringComparison.Ordinal) && a.Ok) is { } done)
            {
                contained.TryAdd(alert.KeyId!, new Containment(alert.KeyId!, alert.Time, done.Action));
            }
            else if (handled.ConfirmUrl is { } url)
            {
                pending.Add((alert.Time + confirmDelay, url[(url.LastIndexOf('/') + 1)..], alert.KeyId!));
            }
        }
        await ConfirmUntil(DateTime.MaxValue).ConfigureAwait(false);
        return new PlaybackResult(target, log.Records, [.. contained.Values.OrderBy(c => c.At)], Score(dataset, alerts, target, contained, log.Records), [.. notes.Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>The dataset as the provider saw it once keys were contained: a contained key's later requests are refused (401, no tokens, no cost).</summary>
    public static Dataset Apply(Dataset dataset, IEnumerable<Containment> containments)
    {
        var at = containments.ToDictionary(c => c.KeyId, c => c.At, StringComparer.Ordinal);
        return dataset with
        {
            Events = [.. dataset.Events.Select(e => at.TryGetValue(e.KeyId, out var t) && e.Time >= t
                ? e with { Status = 401, InputTokens = 0, OutputTokens = 0, CostUsd = 0 }
                : e)],
        };
    }

    private static ImmutableArray<ScenarioResponse> Score(Dataset dataset, IReadOnlyList<Alert> alerts, Target target, Dictionary<string, Containment> contained, ImmutableArray<ActionRecord> actions)
    {
        var notifications = actions.Where(a => a.Ok && a.KeyId is not null && a.Action.StartsWith("notify.", StringComparison.Ordinal))
            .Select(a => (Key: a.KeyId!, At: a.At.UtcDateTime)).ToList();
        var mine = alerts.Where(a => a.Target == target).ToList();
        var result = ImmutableArray.CreateBuilder<ScenarioResponse>();
        foreach (var scenario in dataset.Labels.GroupBy(l => l.Scenario, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var detect = new List<TimeSpan>();
            var revoke = new List<TimeSpan>();
            var notify = new List<TimeSpan>();
            long requests = 0, tokens = 0;
            foreach (var label in scenario)
            {
                if (notifications.Where(n => n.Key == label.KeyId && n.At >= label.Start && n.At <= label.End + RunReport.Grace).Select(n => (DateTime?)n.At).Min() is { } told)
                {
                    notify.Add(told - label.Start);
                }
                if (mine.Where(a => RunReport.Detects(a, label) && RunReport.IsMediumOrAbove(a)).Select(a => (DateTime?)a.Time).Min() is { } first)
                {
                    detect.Add(first - label.Start);
                }
                if (contained.TryGetValue(label.KeyId, out var c) && c.At >= label.Start)
                {
                    revoke.Add(c.At - label.Start);
                    var stopped = dataset.Events.Where(e => e.KeyId == label.KeyId && e.Time >= c.At && e.Time <= label.End && (e.Status ?? 200) < 400).ToList();
                    requests += stopped.Count;
                    tokens += stopped.Sum(e => e.InputTokens + e.OutputTokens);
                }
            }
            result.Add(new ScenarioResponse(scenario.Key, scenario.Count(), detect.Count, revoke.Count, Mean(detect), Mean(revoke), requests, tokens)
            {
                Notified = notify.Count,
                MeanTimeToNotify = Mean(notify),
            });
        }
        return result.ToImmutable();
    }

    private static TimeSpan? Mean(List<TimeSpan> values) => values.Count == 0 ? null : TimeSpan.FromTicks((long)values.Average(v => v.Ticks));

    /// <summary>Registers the key at the local provider it belongs to; an OpenAI key without a project is given the local one, and said so.</summary>
    private static ResponseKey Prepare(ResponseKey key, LocalProviders local, List<string> notes)
    {
        switch (key.Provider?.ToLowerInvariant())
        {
            case "litellm":
                local.LiteLlmKeys[key.ProviderKeyId] = new System.Text.Json.Nodes.JsonObject { ["token"] = key.ProviderKeyId, ["blocked"] = false };
                return key;
            case "anthropic":
                local.AnthropicKeys[key.ProviderKeyId] = "active";
                return key;
            case "openai":
                if (key.Project is null)
                {
                    notes.Add("OpenAI keys without a project in the inventory are placed in the local server's project proj_local");
                }
                var project = key.Project ?? "proj_local";
                local.OpenAiKeys[(project, key.ProviderKeyId)] = false;
                return key with { Project = project };
            default:
                notes.Add($"keys of provider '{key.Provider ?? "unknown"}' are notified, not contained (no containment API)");
                return key;
        }
    }

    /// <summary>Every route of the inventory delivered to the local servers: PagerDuty for pagerduty:* names, Slack otherwise.</summary>
    private static ResponderSettings Settings(LocalProviders local, List<ResponseKey> keys)
    {
        var routes = ImmutableDictionary.CreateBuilder<string, ImmutableArray<RouteChannel>>(StringComparer.Ordinal);
        foreach (var route in keys.Select(k => k.Route).OfType<string>().Append("secops").Distinct(StringComparer.Ordinal))
        {
            routes[route] = route.StartsWith("pagerduty:", StringComparison.Ordinal)
                ? [new RouteChannel(ChannelKind.PagerDuty, new string('0', 32), null)]
                : [new RouteChannel(ChannelKind.Slack, local.SlackUrl.ToString(), null)];
        }
        return new ResponderSettings
        {
            Secret = System.Text.Encoding.UTF8.GetBytes(Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))),
            DefaultRoute = "secops",
            PublicUrl = new Uri("https://responder.invalid"),
            // The analyst's delay is the playback's; links must outlive it.
            ConfirmTtl = TimeSpan.FromDays(3650),
            BaseBackoff = TimeSpan.Zero,
            MaxBackoff = TimeSpan.Zero,
            LiteLlm = new ProviderEndpoint(local.LiteLlmUrl, LocalProviders.LiteLlmMasterKey),
            OpenAi = new ProviderEndpoint(local.OpenAiUrl, LocalProviders.OpenAiAdminKey),
            Anthropic = new ProviderEndpoint(local.AnthropicUrl, LocalProviders.AnthropicAdminKey),
            PagerDutyEventsUrl = local.PagerDutyUrl,
            Routes = routes.ToImmutable(),
        };
    }
}
