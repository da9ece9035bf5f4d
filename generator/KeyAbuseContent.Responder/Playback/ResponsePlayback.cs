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

/// <summary>When a key was contained on one target's timeline, by which action, and the time of the alert that led to it.</summary>
public sealed record Containment(string KeyId, DateTime At, string Action, DateTime AlertAt);

/// <summary>One scenario's figures: attacks, detected, contained, mean time to detect and to revoke, successful requests stopped.</summary>
public sealed record ScenarioResponse(string Scenario, int Attacks, int Detected, int Contained, TimeSpan? MeanTimeToDetect, TimeSpan? MeanTimeToRevoke, long RequestsStopped, long TokensStopped)
{
    /// <summary>Attacks whose key's route was notified (a notification the channel accepted) within the attack or its grace.</summary>
    public int Notified { get; init; }

    /// <summary>From an attack's start to the first notification about its key, averaged over the attacks notified.</summary>
    public TimeSpan? MeanTimeToNotify { get; init; }
}

/// <summary>A held containment the analyst dismissed: the alert that raised it (rule, key, time) and when it was dismissed.</summary>
public sealed record Dismissal(string Rule, string KeyId, DateTime AlertAt, DateTime DismissedAt);

/// <summary>What the response did on one target: every action, the containments, the dismissed holds, the figures per scenario.</summary>
public sealed record PlaybackResult(Target Target, ImmutableArray<ActionRecord> Actions, ImmutableArray<Containment> Containments, ImmutableArray<Dismissal> Dismissals, ImmutableArray<ScenarioResponse> Scenarios, ImmutableArray<string> Notes);

/// <summary>
/// Plays the response on the harness timeline: each alert (in time order) goes through the responder logic against
/// the local provider servers at the alert's time. Automatic containment (LiteLLM keys whose team lists the rule) is
/// done at once, whatever the alert. A held containment is decided by a simulated analyst <c>confirmDelay</c> later:
/// confirmed when its alert detects a labelled attack (<see cref="AnalystConfirms"/>), dismissed otherwise. A contained
/// key is replaced by its owner at once: the dataset keeps one id per key and its service's traffic goes on, so the
/// replacement carries the same id (registered again at the local provider), and an alert whose events all come
/// after the containment is about the replacement, a new incident; one whose events began before it, or one of the
/// attack the containment was made for (whose later requests the provider refused), needs nothing more. Alerts below medium (inventory hygiene) are not played, as they are not
/// scored as detections. Time to revoke runs from the attack's start to the containment its alerts led to.
/// </summary>
public static class ResponsePlayback
{
    /// <summary>
    /// The simulated analyst's judgement of a held containment: confirmed when the alert detects a labelled attack of
    /// the dataset (inside the attack's window, naming its key, or for an alert naming no key one of the label's
    /// addresses: <see cref="RunReport.Detects"/>), dismissed otherwise. The labels stand for what the analyst finds
    /// out when investigating; they are read here and by the scoring only. No rule reads them: the rules see the
    /// events, the inventory and the enrichment, never <c>labels.json</c>.
    /// </summary>
    public static bool AnalystConfirms(Alert alert, IReadOnlyList<AttackLabel> labels) => labels.Any(l => RunReport.Detects(alert, l));

    public static async Task<PlaybackResult> RunAsync(Dataset dataset, ResponseInventory inventory, IReadOnlyList<Alert> alerts, Target target, TimeSpan confirmDelay, CancellationToken cancellationToken = default)
    {
        await using var local = await LocalProviders.StartAsync(cancellationToken).ConfigureAwait(false);
        var notes = new List<string>();
        var keys = dataset.Inventory.Select(k => inventory.Find(k.Id)).OfType<ResponseKey>().DistinctBy(k => k.Id, StringComparer.Ordinal).Select(k => Prepare(k, local, notes)).ToDictionary(k => k.Id, StringComparer.Ordinal);
        var settings = Settings(local, [.. keys.Values]);
        var clock = new TimelineClock(DateTimeOffset.UnixEpoch);
        var log = new ActionLog();
        using var http = new HttpClient();
        var responder = new AlertResponder(settings, new ResponseInventory(keys.Values), http, log, clock, NullLogger.Instance);
        var contained = new List<Containment>();
        var containedSince = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        var dismissed = new List<Dismissal>();
        var pending = new List<(DateTime At, string Token, Alert Alert, bool Confirms)>();

        var answeredAttacks = new HashSet<int>();

        // A containment already answered an alert about events from before it (the key it contained), and an alert
        // of an attack it was made for (the attack's requests after it were refused: the same incident).
        bool Answered(Alert alert) =>
            (containedSince.TryGetValue(alert.KeyId!, out var since) && (alert.FirstSeen ?? alert.Time) < since)
            || Attacks(alert).Any(answeredAttacks.Contains);

        IEnumerable<int> Attacks(Alert alert) => Enumerable.Range(0, dataset.Labels.Length).Where(i => RunReport.Detects(alert, dataset.Labels[i]));

        void Contained(Alert alert, DateTime at, string action)
        {
            contained.Add(new Containment(alert.KeyId!, at, action, alert.Time));
            containedSince[alert.KeyId!] = at;
            answeredAttacks.UnionWith(Attacks(alert));
            Register(keys[alert.KeyId!], local);
        }

        async Task DecideUntil(DateTime until)
        {
            foreach (var p in pending.Where(p => p.At <= until).OrderBy(p => p.At).ToList())
            {
                pending.Remove(p);
                clock.Now = new DateTimeOffset(p.At, TimeSpan.Zero);
                if (Answered(p.Alert))
                {
                    // Contained meanwhile (automatically, or by another confirmation): nothing left to decide.
                    continue;
                }
                if (!p.Confirms)
                {
                    if (responder.Dismiss(p.Token).Problem == ConfirmProblem.None)
                    {
                        dismissed.Add(new Dismissal(p.Alert.Rule, p.Alert.KeyId!, p.Alert.Time, p.At));
                    }
                    continue;
                }
                var outcome = await responder.ConfirmAsync(p.Token, cancellationToken).ConfigureAwait(false);
                if (outcome.Actions.FirstOrDefault(a => a.Action.StartsWith("contain.", StringComparison.Ordinal) && a.Ok) is { } done)
                {
                    Contained(p.Alert, p.At, done.Action);
                }
            }
        }

        foreach (var alert in alerts.Where(a => a.Target == target && a.KeyId is not null && RunReport.IsMediumOrAbove(a)).OrderBy(a => a.Time))
        {
            await DecideUntil(alert.Time).ConfigureAwait(false);
            var confirms = AnalystConfirms(alert, dataset.Labels);
            // An alert on a key whose containment is already held joins that incident, unless the held one is false
            // and this one is an attack's (the analyst dismisses the first and confirms the second, its own hold), or
            // the responder contains the key for this alert's rule without waiting (LiteLLM response.auto).
            var automatic = keys.TryGetValue(alert.KeyId!, out var key) && key.Provider?.ToLowerInvariant() == "litellm" && key.Policy.AutoRules.Contains(alert.Rule);
            if (Answered(alert) || (!automatic && pending.Any(p => p.Alert.KeyId == alert.KeyId && (p.Confirms || !confirms))))
            {
                continue;
            }
            clock.Now = new DateTimeOffset(alert.Time, TimeSpan.Zero);
            var incoming = new IncomingAlert(alert.Rule, alert.KeyId!, alert.Severity, alert.Title, alert.Summary, Alert.Iso(alert.Time), null, null, null, null);
            var handled = await responder.HandleAsync(incoming, cancellationToken).ConfigureAwait(false);
            if (handled.Actions.FirstOrDefault(a => a.Action.StartsWith("contain.", StringComparison.Ordinal) && a.Ok) is { } done)
            {
                Contained(alert, alert.Time, done.Action);
            }
            else if (handled.ConfirmUrl is { } url)
            {
                pending.Add((alert.Time + confirmDelay, url[(url.LastIndexOf('/') + 1)..], alert, confirms));
            }
        }
        await DecideUntil(DateTime.MaxValue).ConfigureAwait(false);
        return new PlaybackResult(target, log.Records, [.. contained.OrderBy(c => c.At)], [.. dismissed], Score(dataset, alerts, target, contained, log.Records), [.. notes.Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// The dataset as the provider saw it had the contained keys not been replaced: a key's requests from its first
    /// containment on are refused (401, no tokens, no cost).
    /// </summary>
    public static Dataset Apply(Dataset dataset, IEnumerable<Containment> containments)
    {
        var at = containments.GroupBy(c => c.KeyId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Min(c => c.At), StringComparer.Ordinal);
        return dataset with
        {
            Events = [.. dataset.Events.Select(e => at.TryGetValue(e.KeyId, out var t) && e.Time >= t
                ? e with { Status = 401, InputTokens = 0, OutputTokens = 0, CostUsd = 0 }
                : e)],
        };
    }

    private static ImmutableArray<ScenarioResponse> Score(Dataset dataset, IReadOnlyList<Alert> alerts, Target target, List<Containment> contained, ImmutableArray<ActionRecord> actions)
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
                // The containment this attack's alerts led to: of its key, caused by an alert inside its window.
                if (contained.Where(c => c.KeyId == label.KeyId && c.At >= label.Start && c.AlertAt >= label.Start && c.AlertAt <= label.End + RunReport.Grace)
                    .OrderBy(c => c.At).FirstOrDefault() is { } c)
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

    /// <summary>Prepares a key for the local providers and registers it; an OpenAI key without a project is given the local one, and said so.</summary>
    private static ResponseKey Prepare(ResponseKey key, LocalProviders local, List<string> notes)
    {
        switch (key.Provider?.ToLowerInvariant())
        {
            case "litellm" or "anthropic":
                break;
            case "openai":
                if (key.Project is null)
                {
                    notes.Add("OpenAI keys without a project in the inventory are placed in the local server's project proj_local");
                }
                key = key with { Project = key.Project ?? "proj_local" };
                break;
            default:
                notes.Add($"keys of provider '{key.Provider ?? "unknown"}' are notified, not contained (no containment API)");
                break;
        }
        Register(key, local);
        return key;
    }

    /// <summary>Registers the key, active and unlimited, at the local provider it belongs to (at the start, and as the replacement of a contained key).</summary>
    private static void Register(ResponseKey key, LocalProviders local)
    {
        switch (key.Provider?.ToLowerInvariant())
        {
            case "litellm":
                local.LiteLlmKeys[key.ProviderKeyId] = new System.Text.Json.Nodes.JsonObject { ["token"] = key.ProviderKeyId, ["blocked"] = false };
                break;
            case "anthropic":
                local.AnthropicKeys[key.ProviderKeyId] = "active";
                break;
            case "openai":
                local.OpenAiKeys[(key.Project!, key.ProviderKeyId)] = false;
                break;
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
