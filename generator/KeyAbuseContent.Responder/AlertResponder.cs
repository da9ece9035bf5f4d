using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using KeyAbuseContent.Response;
using Microsoft.Extensions.Logging;

namespace KeyAbuseContent.Responder;

/// <summary>What the responder did with one alert: its actions and, when containment waits for an analyst, the confirm link.</summary>
public sealed record AlertOutcome(IncomingAlert Alert, bool Refused, ImmutableArray<ActionRecord> Actions, string? ConfirmUrl);

/// <summary>What a confirmation did, or why it was refused.</summary>
public sealed record ConfirmOutcome(ConfirmProblem Problem, ImmutableArray<ActionRecord> Actions);

/// <summary>
/// The response to an alert: notify the key's route (the default route when the key has none), and contain the key
/// at its provider: automatically for LiteLLM keys whose team marked the rule so, otherwise held until an analyst
/// confirms through a signed, expiring, single-use link. An OpenAI deletion cannot be undone, so it always waits.
/// </summary>
public sealed class AlertResponder
{
    private readonly ResponderSettings _settings;
    private readonly ResponseInventory _inventory;
    private readonly ResponseSender _sender;
    private readonly ConfirmLinks _links;
    private readonly ActionLog _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, (IncomingAlert Alert, ResponseKey Key)> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _seenAlerts = new(StringComparer.Ordinal);

    public AlertResponder(ResponderSettings settings, ResponseInventory inventory, HttpClient http, ActionLog log, TimeProvider time, ILogger logger)
    {
        _settings = settings;
        _inventory = inventory;
        _log = log;
        _time = time;
        _logger = logger;
        _sender = new ResponseSender(http, settings, time, log, logger);
        _links = new ConfirmLinks(settings.Secret, time);
    }

    public ActionLog Log => _log;

    /// <summary>Records a refusal (bad signature, unknown key, replay, ...) and logs it.</summary>
    public ActionRecord Refuse(string reason, string? rule = null, string? keyId = null)
    {
        ResponderLog.Refused(_logger, reason, rule, keyId);
        var record = new ActionRecord(_time.GetUtcNow(), "refuse", rule, keyId, "refused", null, 0, reason);
        _log.Add(record);
        return record;
    }

    public async Task<AlertOutcome> HandleAsync(IncomingAlert alert, CancellationToken cancellationToken)
    {
        var key = _inventory.Find(alert.KeyId);
        if (key is null)
        {
            return new AlertOutcome(alert, true, [Refuse("the key is not in the responder's inventory", alert.Rule, alert.KeyId)], null);
        }
        if (!_seenAlerts.TryAdd($"{alert.Rule}|{alert.KeyId}|{alert.Time}", 0))
        {
            return new AlertOutcome(alert, true, [Refuse("this alert was already received", alert.Rule, alert.KeyId)], null);
        }
        var actions = new List<ActionRecord>();
        string? confirmUrl = null;
        var provider = key.Provider?.ToLowerInvariant();
        var auto = provider == "litellm" && key.Policy.AutoRules.Contains(alert.Rule);
        if (auto)
        {
            actions.Add(await ContainAsync(alert, key, confirmed: false, cancellationToken).ConfigureAwait(false));
        }
        else if (alert.Severity.ToLowerInvariant() is not ("medium" or "high" or "critical"))
        {
            actions.Add(Record("hold", alert, "ok", $"a {alert.Severity} alert notifies only; containment is offered from medium up"));
        }
        else if (provider is "litellm" or "anthropic" or "openai")
        {
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            _held[id] = (alert, key);
            var token = _links.Create(id, _time.GetUtcNow() + _settings.ConfirmTtl);
            confirmUrl = _settings.PublicUrl.ToString().TrimEnd('/') + "/confirm/" + token;
            actions.Add(Record("hold", alert, "held", $"containment of the {provider} key waits for an analyst until {(_time.GetUtcNow() + _settings.ConfirmTtl).UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"));
        }
        else
        {
            actions.Add(Record("hold", alert, "failed", $"no containment for provider '{key.Provider ?? "unknown"}': notify only"));
        }
        actions.AddRange(await NotifyAsync(alert, key, confirmUrl, auto ? actions[^1] : null, cancellationToken).ConfigureAwait(false));
        return new AlertOutcome(alert, false, [.. actions], confirmUrl);
    }

    /// <summary>Checks a confirm token only (for the page an analyst sees before confirming).</summary>
    public ConfirmProblem Check(string token)
    {
        var (problem, id) = _links.Check(token);
        return problem == ConfirmProblem.None && !_held.ContainsKey(id!) ? ConfirmProblem.Used : problem;
    }

    public async Task<ConfirmOutcome> ConfirmAsync(string token, CancellationToken cancellationToken)
    {
        var (problem, id) = _links.Check(token);
        if (problem == ConfirmProblem.Expired && id is not null)
        {
            _held.TryRemove(id, out _);
        }
        if (problem != ConfirmProblem.None)
        {
            return new ConfirmOutcome(problem, [Refuse($"confirmation refused: {problem}")]);
        }
        if (!_held.TryRemove(id!, out var held))
        {
            return new ConfirmOutcome(ConfirmProblem.Used, [Refuse("confirmation refused: already used or unknown")]);
        }
        var confirmed = Record("confirm", held.Alert, "ok", "an analyst confirmed containment");
        var contained = await ContainAsync(held.Alert, held.Key, confirmed: true, cancellationToken).ConfigureAwait(false);
        return new ConfirmOutcome(ConfirmProblem.None, [confirmed, contained]);
    }

    /// <summary>
    /// An analyst dismisses a held containment (the alert was false): nothing is contained, the link no longer
    /// works, and the dismissal is logged with its time. Refused as a confirmation is (bad, expired or used link).
    /// </summary>
    public ConfirmOutcome Dismiss(string token)
    {
        var (problem, id) = _links.Check(token);
        if (problem == ConfirmProblem.Expired && id is not null)
        {
            _held.TryRemove(id, out _);
        }
        if (problem != ConfirmProblem.None)
        {
            return new ConfirmOutcome(problem, [Refuse($"dismissal refused: {problem}")]);
        }
        if (!_held.TryRemove(id!, out var held))
        {
            return new ConfirmOutcome(ConfirmProblem.Used, [Refuse("dismissal refused: already used or unknown")]);
        }
        return new ConfirmOutcome(ConfirmProblem.None, [Record("dismiss", held.Alert, "ok", "an analyst dismissed the containment as a false alert: nothing contained")]);
    }

    private ActionRecord Record(string action, IncomingAlert alert, string outcome, string detail)
    {
        var record = new ActionRecord(_time.GetUtcNow(), action, alert.Rule, alert.KeyId, outcome, null, 0, detail);
        _log.Add(record);
        return record;
    }

    private async Task<ActionRecord> ContainAsync(IncomingAlert alert, ResponseKey key, bool confirmed, CancellationToken cancellationToken)
    {
        var segment = Uri.EscapeDataString(key.ProviderKeyId);
        switch (key.Provider?.ToLowerInvariant())
        {
            case "litellm":
                var p = key.Policy;
                var request = p.Action == LiteLlmContainment.Clamp
                    ? ResponseRequests.LiteLlmClamp(key.ProviderKeyId, p.RpmLimit, p.TpmLimit, p.MaxBudgetUsd)
                    : ResponseRequests.LiteLlmBlock(key.ProviderKeyId);
                return await Provider("contain." + request.Action, request, _settings.LiteLlm, alert, cancellationToken).ConfigureAwait(false);
            case "anthropic":
                return await Provider("contain.anthropic.deactivate", ResponseRequests.AnthropicDeactivate(segment), _settings.Anthropic, alert, cancellationToken).ConfigureAwait(false);
            case "openai" when confirmed:
                if (key.Project is null)
                {
                    return Record("contain.openai.delete", alert, "failed", "the inventory names no OpenAI project for the key");
                }
                return await Provider("contain.openai.delete", ResponseRequests.OpenAiDeleteProjectKey(Uri.EscapeDataString(key.Project), segment), _settings.OpenAi, alert, cancellationToken).ConfigureAwait(false);
            default:
                return Record("contain", alert, "failed", $"no containment for provider '{key.Provider}' without confirmation");
        }
    }

    private async Task<ActionRecord> Provider(string action, ResponseRequest request, ProviderEndpoint? endpoint, IncomingAlert alert, CancellationToken cancellationToken)
    {
        if (endpoint is null || string.IsNullOrEmpty(endpoint.Secret))
        {
            ResponderLog.NotConfigured(_logger, action);
            return Record(action, alert, "failed", "the provider's base URL or admin secret is not configured");
        }
        return await _sender.SendAsync(action, request, new ResponseSender.Destination(endpoint.BaseUrl, endpoint.Secret), alert.Rule, alert.KeyId, cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<ActionRecord>> NotifyAsync(IncomingAlert alert, ResponseKey key, string? confirmUrl, ActionRecord? contained, CancellationToken cancellationToken)
    {
        var actions = new List<ActionRecord>();
        var route = key.Route ?? alert.Route;
        var channels = route is null ? [] : _settings.Channels(route);
        if (channels.IsEmpty)
        {
            actions.Add(Record("route", alert, "ok", route is null
                ? $"the key has no route; the default route '{_settings.DefaultRoute}' is used"
                : $"the route '{route}' has no channel configured; the default route '{_settings.DefaultRoute}' is used"));
            route = _settings.DefaultRoute;
            channels = _settings.Channels(route);
        }
        var summary = alert.Summary;
        if (contained is not null)
        {
            summary += contained.Ok ? $" The key was contained automatically ({contained.Action})." : $" Automatic containment FAILED ({contained.Action}: {contained.Status}).";
        }
        var content = new NotificationContent(alert.Rule, alert.KeyId, alert.Severity, alert.Title, summary, alert.Time,
            key.Owner ?? alert.Owner, key.Team ?? alert.Team, key.Service ?? alert.Service, route!, confirmUrl);
        foreach (var channel in channels)
        {
            var (request, destination) = channel.Kind switch
            {
                ChannelKind.Slack => (ResponseRequests.SlackMessage(content), new ResponseSender.Destination(new Uri(channel.Secret), null)),
                ChannelKind.PagerDuty => (ResponseRequests.PagerDutyTrigger(channel.Secret, content), new ResponseSender.Destination(_settings.PagerDutyEventsUrl, null)),
                _ => (Webhook(content), new ResponseSender.Destination(new Uri(channel.Secret), null, channel.SigningSecret)),
            };
            actions.Add(await _sender.SendAsync("notify." + channel.Kind.ToString().ToLowerInvariant(), request, destination, alert.Rule, alert.KeyId, cancellationToken).ConfigureAwait(false));
        }
        return actions;
    }

    /// <summary>The generic webhook: the alert and its route as JSON, signed like the webhooks the responder receives.</summary>
    private static ResponseRequest Webhook(NotificationContent n) => new("webhook.alert", "POST", "", ResponseAuth.None,
        [KeyValuePair.Create("Content-Type", "application/json")],
        new JsonObject
        {
            ["rule"] = n.Rule,
            ["key_id"] = n.KeyId,
            ["severity"] = n.Severity,
            ["title"] = n.Title,
            ["summary"] = n.Summary,
            ["time"] = n.Timestamp,
            ["owner"] = n.Owner,
            ["team"] = n.Team,
            ["service"] = n.Service,
            ["route"] = n.Route,
            ["confirm_url"] = n.ConfirmUrl,
        }.ToJsonString());
}
