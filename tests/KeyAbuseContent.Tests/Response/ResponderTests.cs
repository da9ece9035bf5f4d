using System.Text.Json.Nodes;
using KeyAbuseContent.Responder;

namespace KeyAbuseContent.Tests.Response;

/// <summary>The responder against local servers that answer as LiteLLM, OpenAI, Anthropic, Slack and PagerDuty document.</summary>
public sealed class ResponderTests
{
    private static JsonObject Body(KeyAbuseContent.Responder.Local.ReceivedRequest r) => (JsonObject)JsonNode.Parse(r.Body)!;

    [Fact]
    public async Task A_rule_the_team_marked_blocks_a_LiteLLM_key_with_the_master_key_as_bearer()
    {
        await using var f = await ResponderFixture.StartAsync();
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("proxy-auto"), default);
        var block = Assert.Single(f.Local.Received, r => r.Path == "/litellm/key/block");
        Assert.Equal("Bearer " + KeyAbuseContent.Responder.Local.LocalProviders.LiteLlmMasterKey, block.Headers["authorization"]);
        Assert.Equal("hashed-token-1", (string?)Body(block)["key"]);
        Assert.True((bool)f.Local.LiteLlmKeys["hashed-token-1"]["blocked"]!);
        Assert.Contains(outcome.Actions, a => a.Action == "contain.litellm.block" && a.Ok);
        Assert.Null(outcome.ConfirmUrl);
    }

    [Fact]
    public async Task A_clamp_policy_updates_the_LiteLLM_key_with_its_limits()
    {
        await using var f = await ResponderFixture.StartAsync();
        await f.Responder.HandleAsync(ResponderFixture.Alert("proxy-clamp"), default);
        var key = f.Local.LiteLlmKeys["hashed-token-2"];
        Assert.Equal(10, (long)key["rpm_limit"]!);
        Assert.Equal(1000, (long)key["tpm_limit"]!);
        Assert.Equal(5.0, (double)key["max_budget"]!);
        Assert.False((bool)key["blocked"]!);
    }

    [Fact]
    public async Task A_rule_the_team_did_not_mark_holds_LiteLLM_containment_for_an_analyst()
    {
        await using var f = await ResponderFixture.StartAsync();
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("proxy-auto", rule: "llm-key-new-country-high-tokens"), default);
        Assert.DoesNotContain(f.Local.Received, r => r.Service == "litellm");
        Assert.NotNull(outcome.ConfirmUrl);
    }

    [Fact]
    public async Task An_OpenAI_key_is_never_deleted_automatically_even_when_the_rule_is_marked()
    {
        await using var f = await ResponderFixture.StartAsync();
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("oa-key"), default);
        Assert.DoesNotContain(f.Local.Received, r => r.Service == "openai");
        Assert.True(f.Local.OpenAiKeys.ContainsKey(("proj_abc", "key_abc")));
        Assert.StartsWith("https://responder.example.com/confirm/", outcome.ConfirmUrl, StringComparison.Ordinal);
    }

    private static string Token(AlertOutcome outcome) => outcome.ConfirmUrl![(outcome.ConfirmUrl!.LastIndexOf('/') + 1)..];

    [Fact]
    public async Task A_confirmed_OpenAI_containment_deletes_the_project_key_with_the_admin_key_as_bearer()
    {
        await using var f = await ResponderFixture.StartAsync();
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("oa-key"), default);
        var confirmed = await f.Responder.ConfirmAsync(Token(outcome), default);
        Assert.Equal(ConfirmProblem.None, confirmed.Problem);
        var delete = Assert.Single(f.Local.Received, r => r.Service == "openai");
        Assert.Equal("DELETE", delete.Method);
        Assert.Equal("/openai/v1/organization/projects/proj_abc/api_keys/key_abc", delete.Path);
        Assert.Equal("Bearer " + KeyAbuseContent.Responder.Local.LocalProviders.OpenAiAdminKey, delete.Headers["authorization"]);
        Assert.False(f.Local.OpenAiKeys.ContainsKey(("proj_abc", "key_abc")));
    }

    [Fact]
    public async Task A_confirm_link_works_once()
    {
        await using var f = await ResponderFixture.StartAsync();
        var token = Token(await f.Responder.HandleAsync(ResponderFixture.Alert("oa-key"), default));
        await f.Responder.ConfirmAsync(token, default);
        var again = await f.Responder.ConfirmAsync(token, default);
        Assert.Equal(ConfirmProblem.Used, again.Problem);
        Assert.Single(f.Local.Received, r => r.Service == "openai");
    }

    [Fact]
    public async Task An_expired_confirm_link_is_refused_and_logged()
    {
        await using var f = await ResponderFixture.StartAsync();
        var token = Token(await f.Responder.HandleAsync(ResponderFixture.Alert("oa-key"), default));
        f.Clock.Now += f.Settings.ConfirmTtl + TimeSpan.FromSeconds(1);
        var outcome = await f.Responder.ConfirmAsync(token, default);
        Assert.Equal(ConfirmProblem.Expired, outcome.Problem);
        Assert.DoesNotContain(f.Local.Received, r => r.Service == "openai");
        Assert.Contains(f.Log.Records, r => r.Outcome == "refused" && r.Detail.Contains("Expired", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tampered_confirm_link_is_refused()
    {
        await using var f = await ResponderFixture.StartAsync();
        var token = Token(await f.Responder.HandleAsync(ResponderFixture.Alert("oa-key"), default));
        var parts = token.Split('.');
        var later = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 86400;
        var outcome = await f.Responder.ConfirmAsync($"{parts[0]}.{later}.{parts[2]}", default);
        Assert.Equal(ConfirmProblem.BadSignature, outcome.Problem);
    }

    [Fact]
    public async Task A_confirmed_Anthropic_containment_sets_the_key_inactive_with_x_api_key_and_anthropic_version()
    {
        await using var f = await ResponderFixture.StartAsync();
        var token = Token(await f.Responder.HandleAsync(ResponderFixture.Alert("ant-key"), default));
        await f.Responder.ConfirmAsync(token, default);
        var update = Assert.Single(f.Local.Received, r => r.Service == "anthropic");
        Assert.Equal(KeyAbuseContent.Responder.Local.LocalProviders.AnthropicAdminKey, update.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", update.Headers["anthropic-version"]);
        Assert.Equal("inactive", f.Local.AnthropicKeys["apikey_01abc"]);
    }

    [Fact]
    public async Task A_server_error_is_retried_until_the_provider_accepts()
    {
        await using var f = await ResponderFixture.StartAsync();
        f.Local.Fail("litellm", 503, count: 2);
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("proxy-auto"), default);
        var block = Assert.Single(outcome.Actions, a => a.Action == "contain.litellm.block");
        Assert.True(block.Ok);
        Assert.Equal(3, block.Attempts);
    }

    [Fact]
    public async Task A_rate_limit_is_retried_after_the_time_it_asks_for()
    {
        await using var f = await ResponderFixture.StartAsync();
        f.Local.Fail("anthropic", 429, retryAfter: "0");
        var token = Token(await f.Responder.HandleAsync(ResponderFixture.Alert("ant-key"), default));
        var outcome = await f.Responder.ConfirmAsync(token, default);
        Assert.Equal(2, outcome.Actions.Single(a => a.Action == "contain.anthropic.deactivate").Attempts);
        Assert.Equal("inactive", f.Local.AnthropicKeys["apikey_01abc"]);
    }

    [Fact]
    public async Task Persistent_server_errors_are_reported_after_the_last_attempt()
    {
        await using var f = await ResponderFixture.StartAsync(maxAttempts: 3);
        f.Local.Fail("litellm", 500, count: 5);
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("proxy-auto"), default);
        var block = outcome.Actions.Single(a => a.Action == "contain.litellm.block");
        Assert.Equal(("failed", 500, 3), (block.Outcome, block.Status, block.Attempts));
    }

    [Fact]
    public async Task A_client_error_is_reported_without_retrying()
    {
        await using var f = await ResponderFixture.StartAsync();
        f.Local.OpenAiKeys.Clear();
        var token = Token(await f.Responder.HandleAsync(ResponderFixture.Alert("oa-key"), default));
        var outcome = await f.Responder.ConfirmAsync(token, default);
        var delete = outcome.Actions.Single(a => a.Action == "contain.openai.delete");
        Assert.Equal(("failed", 404, 1), (delete.Outcome, delete.Status, delete.Attempts));
        Assert.Contains("No API key found", delete.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_admin_key_is_reported_as_the_providers_401()
    {
        await using var f = await ResponderFixture.StartAsync();
        var settings = f.Settings;
        var responder = new AlertResponder(new ResponderSettings
        {
            Secret = settings.Secret,
            DefaultRoute = settings.DefaultRoute,
            PublicUrl = settings.PublicUrl,
            Routes = settings.Routes,
            PagerDutyEventsUrl = settings.PagerDutyEventsUrl,
            BaseBackoff = TimeSpan.Zero,
            MaxBackoff = TimeSpan.Zero,
            LiteLlm = new ProviderEndpoint(f.Local.LiteLlmUrl, "sk-wrong"),
        }, new ResponseInventory(ResponderFixture.Keys), new HttpClient(), new ActionLog(), f.Clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var outcome = await responder.HandleAsync(ResponderFixture.Alert("proxy-auto"), default);
        var block = outcome.Actions.Single(a => a.Action == "contain.litellm.block");
        Assert.Equal(("failed", 401, 1), (block.Outcome, block.Status, block.Attempts));
    }

    [Fact]
    public async Task An_unknown_key_is_refused_and_logged()
    {
        await using var f = await ResponderFixture.StartAsync();
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("not-in-inventory"), default);
        Assert.True(outcome.Refused);
        Assert.Empty(f.Local.Received);
        Assert.Contains(f.Log.Records, r => r.Outcome == "refused" && r.KeyId == "not-in-inventory");
    }

    [Fact]
    public async Task The_same_alert_twice_is_refused_the_second_time()
    {
        await using var f = await ResponderFixture.StartAsync();
        await f.Responder.HandleAsync(ResponderFixture.Alert("proxy-auto"), default);
        var again = await f.Responder.HandleAsync(ResponderFixture.Alert("proxy-auto"), default);
        Assert.True(again.Refused);
        Assert.Single(f.Local.Received, r => r.Service == "litellm");
    }

    [Fact]
    public async Task A_key_without_a_route_goes_to_the_default_route()
    {
        await using var f = await ResponderFixture.StartAsync();
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("orphan"), default);
        Assert.Contains(outcome.Actions, a => a.Action == "route" && a.Detail.Contains("default route 'secops'", StringComparison.Ordinal));
        var slack = Assert.Single(f.Local.Received, r => r.Service == "slack");
        Assert.Contains("route secops", slack.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PagerDuty_accepts_the_trigger_with_the_routing_key_in_the_body_and_one_dedup_key_per_key_and_rule()
    {
        await using var f = await ResponderFixture.StartAsync();
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("oa-key", severity: "critical"), default);
        var page = Assert.Single(f.Local.Received, r => r.Service == "pagerduty");
        Assert.Equal(202, page.Status);
        var body = Body(page);
        Assert.Equal(new string('r', 32), (string?)body["routing_key"]);
        Assert.Equal("keyabuse:llm-key-rpm-above-baseline:oa-key", (string?)body["dedup_key"]);
        Assert.Equal("critical", (string?)body["payload"]!["severity"]);
        Assert.Equal(outcome.ConfirmUrl, (string?)body["payload"]!["custom_details"]!["confirm"]);
    }

    [Fact]
    public async Task The_generic_webhook_is_signed_with_the_routes_signing_secret()
    {
        await using var f = await ResponderFixture.StartAsync();
        await f.Responder.HandleAsync(ResponderFixture.Alert("hooked"), default);
        var hook = Assert.Single(f.Local.Received, r => r.Service == "webhook");
        var verifier = new WebhookSignature(System.Text.Encoding.UTF8.GetBytes("hook-signing-secret-0123456789abcdef"), f.Clock, TimeSpan.FromMinutes(5));
        Assert.Equal(SignatureProblem.None, verifier.Verify(hook.Headers[WebhookSignature.Header.ToLowerInvariant()], hook.Body));
    }

    [Fact]
    public async Task A_slack_rejection_is_reported_not_dropped()
    {
        await using var f = await ResponderFixture.StartAsync();
        f.Local.Fail("slack", 404);
        var outcome = await f.Responder.HandleAsync(ResponderFixture.Alert("orphan"), default);
        Assert.Contains(outcome.Actions, a => a.Action == "notify.slack" && a.Outcome == "failed" && a.Status == 404);
    }
}
