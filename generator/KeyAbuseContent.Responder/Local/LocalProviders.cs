using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KeyAbuseContent.Responder.Local;

/// <summary>A request a local provider received, as it arrived.</summary>
public sealed record ReceivedRequest(string Service, string Method, string Path, ImmutableDictionary<string, string> Headers, string Body, int Status);

/// <summary>
/// Local HTTP servers (Kestrel on 127.0.0.1, a free port) that answer as the real services document, for tests and
/// <c>keyabuse run --respond</c>: the LiteLLM proxy's key management (master key as bearer), OpenAI's Admin API for
/// project keys (admin key as bearer; <c>../shared/specs/openai-openapi.yaml</c>), Anthropic's Admin API for API keys
/// (<c>x-api-key</c> and <c>anthropic-version</c>), a Slack incoming webhook (200 <c>ok</c>), PagerDuty's Events API v2
/// (202 on accept) and a generic webhook receiver, each with its documented error answers. Faults (a status to answer
/// the next requests with) can be queued per service to test retries.
/// </summary>
public sealed class LocalProviders : IAsyncDisposable
{
    public const string LiteLlmMasterKey = "sk-local-litellm-master";
    public const string OpenAiAdminKey = "sk-admin-local-openai";
    public const string AnthropicAdminKey = "sk-ant-admin01-local";
    public const string SlackPath = "/slack/services/T000/B000/local";
    public const string PagerDutyPath = "/pagerduty/v2/enqueue";
    public const string WebhookPath = "/hook";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(int Status, string? RetryAfter)>> _faults = new(StringComparer.Ordinal);

    /// <summary>LiteLLM keys (token) and whether each is blocked; its limits after /key/update.</summary>
    public ConcurrentDictionary<string, JsonObject> LiteLlmKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>OpenAI project keys as (project, key id); a deleted key is gone. Service-account keys cannot be deleted this way.</summary>
    public ConcurrentDictionary<(string Project, string Key), bool> OpenAiKeys { get; } = new();

    /// <summary>Anthropic API keys by id and their status (active, inactive, archived).</summary>
    public ConcurrentDictionary<string, string> AnthropicKeys { get; } = new(StringComparer.Ordinal);

    private LocalProviders(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");

    public Uri LiteLlmUrl => new(BaseUrl, "/litellm");
    public Uri OpenAiUrl => new(BaseUrl, "/openai");
    public Uri AnthropicUrl => new(BaseUrl, "/anthropic");
    public Uri SlackUrl => new(BaseUrl, SlackPath);
    public Uri PagerDutyUrl => new(BaseUrl, PagerDutyPath);
    public Uri WebhookUrl => new(BaseUrl, WebhookPath);

    public ImmutableArray<ReceivedRequest> Received => [.. _received];

    /// <summary>Answers the next <paramref name="count"/> requests to a service (litellm, openai, anthropic, slack, pagerduty, webhook) with a status.</summary>
    public void Fail(string service, int status, int count = 1, string? retryAfter = null)
    {
        var queue = _faults.GetOrAdd(service, _ => new());
        for (var i = 0; i < count; i++)
        {
            queue.Enqueue((status, retryAfter));
        }
    }

    public static async Task<LocalProviders> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var local = new LocalProviders(app);
        local.Map();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        local.BaseUrl = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return local;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private delegate Task<IResult> Handler(HttpRequest request, string body, JsonObject? json);

    private void Map()
    {
        Route("litellm", "POST", "/litellm/key/block", LiteLlm(block: true));
        Route("litellm", "POST", "/litellm/key/update", LiteLlm(block: false));
        Route("openai", "DELETE", "/openai/v1/organization/projects/{project}/api_keys/{key}", OpenAiDelete);
        Route("anthropic", "POST", "/anthropic/v1/organizations/api_keys/{id}", AnthropicUpdate);
        Route("slack", "POST", SlackPath, Slack);
        Route("pagerduty", "POST", PagerDutyPath, PagerDuty);
        Route("webhook", "POST", WebhookPath, (_, _, _) => Task.FromResult(Results.Text("ok")));
    }

    private void Route(string service, string method, string pattern, Handler handler)
    {
        _app.MapMethods(pattern, [method], async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync().ConfigureAwait(false);
            IResult result;
            if (_faults.TryGetValue(service, out var queue) && queue.TryDequeue(out var fault))
            {
                if (fault.RetryAfter is not null)
                {
                    context.Response.Headers.RetryAfter = fault.RetryAfter;
                }
                result = Results.Json(FaultBody(service, fault.Status), statusCode: fault.Status);
            }
            else
            {
                JsonObject? json = null;
                try
                {
                    json = body.Length == 0 ? null : JsonNode.Parse(body) as JsonObject;
                }
                catch (System.Text.Json.JsonException)
                {
                    json = null;
                }
                result = await handler(context.Request, body, json).ConfigureAwait(false);
            }
            var status = result is IStatusCodeHttpResult s ? s.StatusCode ?? 200 : 200;
            _received.Enqueue(new ReceivedRequest(service, method, context.Request.Path, context.Request.Headers.ToImmutableDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal), body, status));
            return result;
        });
    }

    /// <summary>The error bodies each service documents for rate limits and server errors.</summary>
    private static JsonNode FaultBody(string service, int status) => service switch
    {
        "anthropic" => new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = status == 429 ? "rate_limit_error" : status == 529 ? "overloaded_error" : "api_error", ["message"] = "local fault" } },
        "openai" => OpenAiError(status == 429 ? "rate_limit_exceeded" : "server_error", "local fault"),
        "pagerduty" => new JsonObject { ["status"] = status == 429 ? "throttle event" : "error", ["message"] = "local fault" },
        _ => new JsonObject { ["error"] = new JsonObject { ["message"] = "local fault", ["type"] = "internal_error", ["param"] = "None", ["code"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
    };

    private static bool Bearer(HttpRequest request, string secret) => request.Headers.Authorization.ToString() == "Bearer " + secret;

    private Handler LiteLlm(bool block) => (request, _, json) =>
    {
        if (!Bearer(request, LiteLlmMasterKey))
        {
            return Task.FromResult(Results.Json(new JsonObject { ["error"] = new JsonObject { ["message"] = "Authentication Error, Invalid proxy server token passed.", ["type"] = "auth_error", ["param"] = "None", ["code"] = "401" } }, statusCode: 401));
        }
        if (json?["key"] is not JsonValue keyValue || !keyValue.TryGetValue<string>(out var key))
        {
            return Task.FromResult(Results.Json(new JsonObject { ["detail"] = new JsonArray(new JsonObject { ["type"] = "missing", ["loc"] = new JsonArray("body", "key"), ["msg"] = "Field required" }) }, statusCode: 422));
        }
        if (!LiteLlmKeys.TryGetValue(key, out var entry))
        {
            return Task.FromResult(Results.Json(new JsonObject { ["error"] = new JsonObject { ["message"] = $"Key not found: {key}", ["type"] = "not_found", ["param"] = "key", ["code"] = "404" } }, statusCode: 404));
        }
        lock (entry)
        {
            if (block)
            {
                entry["blocked"] = true;
            }
            else
            {
                foreach (var name in new[] { "rpm_limit", "tpm_limit", "max_budget" })
                {
                    if (json[name] is { } v)
                    {
                        entry[name] = v.DeepClone();
                    }
                }
            }
            return Task.FromResult(Results.Json(entry.DeepClone()));
        }
    };

    private static JsonObject OpenAiError(string code, string message) =>
        new() { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = null, ["code"] = code } };

    private Task<IResult> OpenAiDelete(HttpRequest request, string body, JsonObject? json)
    {
        if (!Bearer(request, OpenAiAdminKey))
        {
            return Task.FromResult(Results.Json(OpenAiError("invalid_api_key", "Incorrect API key provided."), statusCode: 401));
        }
        var project = (string)request.RouteValues["project"]!;
        var key = (string)request.RouteValues["key"]!;
        if (!OpenAiKeys.TryGetValue((project, key), out var serviceAccount))
        {
            return Task.FromResult(Results.Json(OpenAiError("not_found", $"No API key found with id '{key}' in project '{project}'."), statusCode: 404));
        }
        if (serviceAccount)
        {
            // The spec: "an error if the key belonged to a service account" (400, ErrorResponse).
            return Task.FromResult(Results.Json(OpenAiError("invalid_request", "API keys of service accounts are deleted with the service account."), statusCode: 400));
        }
        OpenAiKeys.TryRemove((project, key), out _);
        return Task.FromResult(Results.Json(new JsonObject { ["object"] = "organization.project.api_key.deleted", ["id"] = key, ["deleted"] = true }));
    }

    private static JsonObject AnthropicError(string type, string message) =>
        new() { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } };

    private Task<IResult> AnthropicUpdate(HttpRequest request, string body, JsonObject? json)
    {
        if (request.Headers["x-api-key"].ToString() != AnthropicAdminKey)
        {
            return Task.FromResult(Results.Json(AnthropicError("authentication_error", "invalid x-api-key"), statusCode: 401));
        }
        if (string.IsNullOrEmpty(request.Headers["anthropic-version"].ToString()))
        {
            return Task.FromResult(Results.Json(AnthropicError("invalid_request_error", "anthropic-version: header is required"), statusCode: 400));
        }
        var id = (string)request.RouteValues["id"]!;
        if (!AnthropicKeys.ContainsKey(id))
        {
            return Task.FromResult(Results.Json(AnthropicError("not_found_error", $"API key {id} not found"), statusCode: 404));
        }
        var status = (json?["status"] as JsonValue)?.GetValue<string>();
        if (status is not null and not ("active" or "inactive" or "archived"))
        {
            return Task.FromResult(Results.Json(AnthropicError("invalid_request_error", "status: must be one of active, inactive, archived"), statusCode: 400));
        }
        if (status is not null)
        {
            AnthropicKeys[id] = status;
        }
        return Task.FromResult(Results.Json(new JsonObject { ["id"] = id, ["type"] = "api_key", ["status"] = AnthropicKeys[id], ["name"] = id, ["created_at"] = "2026-06-01T00:00:00Z" }));
    }

    private static Task<IResult> Slack(HttpRequest request, string body, JsonObject? json)
    {
        // Incoming webhooks answer in plain text: "ok", or an error code with a 4xx status.
        if (json is null)
        {
            return Task.FromResult(Results.Text("invalid_payload", statusCode: 400));
        }
        if (json["text"] is null && json["blocks"] is null)
        {
            return Task.FromResult(Results.Text("no_text", statusCode: 400));
        }
        return Task.FromResult(Results.Text("ok"));
    }

    private static Task<IResult> PagerDuty(HttpRequest request, string body, JsonObject? json)
    {
        var errors = new List<string>();
        if (json is null)
        {
            errors.Add("Event object is not valid JSON");
        }
        else
        {
            if ((json["routing_key"] as JsonValue)?.GetValue<string>() is not { Length: 32 })
            {
                errors.Add("'routing_key' is missing or not 32 characters");
            }
            if ((json["event_action"] as JsonValue)?.GetValue<string>() is not ("trigger" or "acknowledge" or "resolve"))
            {
                errors.Add("'event_action' is missing or invalid");
            }
            var payload = json["payload"] as JsonObject;
            if (payload?["summary"] is null || payload["source"] is null)
            {
                errors.Add("'payload.summary' and 'payload.source' are required");
            }
            if ((payload?["severity"] as JsonValue)?.GetValue<string>() is not ("critical" or "error" or "warning" or "info"))
            {
                errors.Add("'payload.severity' must be critical, error, warning or info");
            }
        }
        if (errors.Count > 0)
        {
            return Task.FromResult(Results.Json(new JsonObject { ["status"] = "invalid event", ["message"] = "Event object is invalid", ["errors"] = new JsonArray([.. errors.Select(e => (JsonNode)e)]) }, statusCode: 400));
        }
        var dedup = (json!["dedup_key"] as JsonValue)?.GetValue<string>() ?? Guid.NewGuid().ToString("N");
        return Task.FromResult(Results.Json(new JsonObject { ["status"] = "success", ["message"] = "Event processed", ["dedup_key"] = dedup }, statusCode: 202));
    }
}
