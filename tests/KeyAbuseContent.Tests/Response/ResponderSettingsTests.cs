using KeyAbuseContent.Responder;
using Microsoft.Extensions.Configuration;

namespace KeyAbuseContent.Tests.Response;

/// <summary>The responder's configuration: secrets from its environment, routes as names.</summary>
public sealed class ResponderSettingsTests
{
    private static (ResponderSettings? Settings, System.Collections.Immutable.ImmutableArray<string> Problems) Read(Dictionary<string, string?> values) =>
        ResponderSettings.From(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    private static Dictionary<string, string?> Valid() => new()
    {
        ["Responder:Secret"] = ResponderFixture.Secret,
        ["Responder:DefaultRoute"] = "secops",
        ["Routes:secops:Slack"] = "https://hooks.slack.com/services/T/B/X",
    };

    [Fact]
    public void A_missing_shared_secret_is_a_problem()
    {
        var values = Valid();
        values.Remove("Responder:Secret");
        Assert.Contains(Read(values).Problems, p => p.Contains("Responder:Secret", StringComparison.Ordinal));
    }

    [Fact]
    public void A_default_route_without_a_channel_is_a_problem()
    {
        var values = Valid();
        values["Responder:DefaultRoute"] = "nobody";
        Assert.Contains(Read(values).Problems, p => p.Contains("'nobody'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_route_named_channel_colon_name_is_that_channel()
    {
        var values = Valid();
        values["Routes:pagerduty:search-oncall"] = new string('k', 32);
        var channel = Assert.Single(Read(values).Settings!.Channels("pagerduty:search-oncall"));
        Assert.Equal(ChannelKind.PagerDuty, channel.Kind);
    }

    [Fact]
    public void A_webhook_route_without_a_signing_secret_is_a_problem()
    {
        var values = Valid();
        values["Routes:hooks:Webhook"] = "https://hooks.example.com/in";
        Assert.Contains(Read(values).Problems, p => p.Contains("WebhookSecret", StringComparison.Ordinal));
    }

    [Fact]
    public void An_inventory_route_that_is_a_url_is_refused()
    {
        var path = Path.Combine(Path.GetTempPath(), $"inventory-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "keys:\n  - id: k1\n    oncall: https://hooks.slack.com/services/T/B/X\n  - id: k2\n    oncall: search-oncall\n");
        try
        {
            var (inventory, problems) = ResponseInventory.Load(path);
            Assert.Contains(problems, p => p.Contains("never a URL", StringComparison.Ordinal));
            Assert.Null(inventory.Find("k1"));
            Assert.Equal("search-oncall", inventory.Find("k2")!.Route);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_inventory_response_block_gives_the_containment_policy()
    {
        var path = Path.Combine(Path.GetTempPath(), $"inventory-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "keys:\n  - id: k1\n    provider: litellm\n    response:\n      auto: [llm-key-rpm-above-baseline]\n      action: clamp\n      clamp: {rpm: 10, budget_usd: 2.5}\n");
        try
        {
            var policy = ResponseInventory.Load(path).Inventory.Find("k1")!.Policy;
            Assert.Equal((LiteLlmContainment.Clamp, 10L, (long?)null, 2.5), (policy.Action, policy.RpmLimit!.Value, policy.TpmLimit, policy.MaxBudgetUsd!.Value));
            Assert.Contains("llm-key-rpm-above-baseline", policy.AutoRules);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
