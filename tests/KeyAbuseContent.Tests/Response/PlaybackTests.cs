using System.Collections.Immutable;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Responder;
using KeyAbuseContent.Responder.Playback;

namespace KeyAbuseContent.Tests.Response;

/// <summary><c>keyabuse run --respond</c>: the response played on the harness timeline against the local servers.</summary>
public sealed class PlaybackTests
{
    private static readonly DateTime T0 = new(2026, 11, 30, 3, 0, 0, DateTimeKind.Utc);

    private static ActivityEvent Event(string key, DateTime at) => new(at, key, null, null, null, null, null, null, "openai", "gpt-4o", "chat", 100, 50, 200, null, null, null);

    private static InventoryKey Key(string id, string provider) => new(id, provider, null, null, null, null, null, null, null, null, null, [], [], [], []);

    private static Dataset Data(params string[] keys) => new("x",
        [.. Enumerable.Range(0, 60).SelectMany(m => keys.Select(k => Event(k, T0.AddMinutes(m))))],
        [.. keys.Select(k => Key(k, k.StartsWith("proxy", StringComparison.Ordinal) ? "litellm" : "openai"))],
        [.. keys.Select(k => new AttackLabel("burst", k, T0, T0.AddMinutes(59)))], [], []);

    private static Alert At(string key, DateTime time, string severity = "high") =>
        new("llm-key-rpm-above-baseline", Guid.Empty, Target.Sentinel, time, key, severity, "t", "s", new System.Text.Json.Nodes.JsonObject(), T0, []);

    private static readonly ResponseInventory Inventory = new(
    [
        new ResponseKey("proxy-auto", "litellm", null, null, null, null, null, "tok-1", new ContainmentPolicy(["llm-key-rpm-above-baseline"], LiteLlmContainment.Block, null, null, null)),
        new ResponseKey("oa-key", "openai", null, null, null, null, "proj_abc", "key_abc", ContainmentPolicy.None),
    ]);

    [Fact]
    public async Task An_automatically_contained_key_is_revoked_when_it_is_detected()
    {
        var result = await ResponsePlayback.RunAsync(Data("proxy-auto"), Inventory, [At("proxy-auto", T0.AddMinutes(10))], Target.Sentinel, TimeSpan.FromMinutes(15));
        var s = Assert.Single(result.Scenarios);
        Assert.Equal((TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10)), (s.MeanTimeToDetect!.Value, s.MeanTimeToRevoke!.Value));
    }

    [Fact]
    public async Task A_confirmed_key_is_revoked_after_the_confirmation_delay()
    {
        var result = await ResponsePlayback.RunAsync(Data("oa-key"), Inventory, [At("oa-key", T0.AddMinutes(10))], Target.Sentinel, TimeSpan.FromMinutes(15));
        Assert.Equal(TimeSpan.FromMinutes(25), Assert.Single(result.Scenarios).MeanTimeToRevoke);
        Assert.Contains(result.Actions, a => a.Action == "contain.openai.delete" && a.Ok);
    }

    [Fact]
    public async Task Requests_after_containment_no_longer_count_as_successful_use()
    {
        var data = Data("oa-key");
        var result = await ResponsePlayback.RunAsync(data, Inventory, [At("oa-key", T0.AddMinutes(10))], Target.Sentinel, TimeSpan.FromMinutes(15));
        Assert.Equal(35, Assert.Single(result.Scenarios).RequestsStopped);
        var after = ResponsePlayback.Apply(data, result.Containments);
        Assert.Equal(25, after.Events.Count(e => e.Status < 400));
    }

    [Fact]
    public async Task The_analyst_dismisses_a_held_containment_whose_alert_is_outside_every_attack()
    {
        var early = T0.AddHours(-3);
        var result = await ResponsePlayback.RunAsync(Data("oa-key"), Inventory, [At("oa-key", early)], Target.Sentinel, TimeSpan.FromMinutes(15));
        Assert.Empty(result.Containments);
        Assert.DoesNotContain(result.Actions, a => a.Action.StartsWith("contain.", StringComparison.Ordinal));
        Assert.Equal(new Dismissal("llm-key-rpm-above-baseline", "oa-key", early, early.AddMinutes(15)), Assert.Single(result.Dismissals));
        Assert.Contains(result.Actions, a => a.Action == "dismiss" && a.At.UtcDateTime == early.AddMinutes(15));
    }

    [Fact]
    public async Task A_dismissed_false_alert_leaves_the_key_to_be_revoked_when_the_attack_comes()
    {
        var result = await ResponsePlayback.RunAsync(Data("oa-key"), Inventory, [At("oa-key", T0.AddDays(-2)), At("oa-key", T0.AddMinutes(10))], Target.Sentinel, TimeSpan.FromMinutes(15));
        Assert.Single(result.Dismissals);
        Assert.Equal(TimeSpan.FromMinutes(25), Assert.Single(result.Scenarios).MeanTimeToRevoke);
    }

    [Fact]
    public async Task An_attack_alert_during_a_false_alert_hold_gets_its_own_hold_and_is_confirmed()
    {
        var result = await ResponsePlayback.RunAsync(Data("oa-key"), Inventory, [At("oa-key", T0.AddMinutes(-5)), At("oa-key", T0.AddMinutes(5))], Target.Sentinel, TimeSpan.FromMinutes(15));
        Assert.Equal(T0.AddMinutes(-5), Assert.Single(result.Dismissals).AlertAt);
        Assert.Equal(T0.AddMinutes(20), Assert.Single(result.Containments).At);
    }

    [Fact]
    public async Task Automatic_containment_does_not_wait_for_the_analyst_even_on_a_false_alert()
    {
        var early = T0.AddHours(-3);
        var result = await ResponsePlayback.RunAsync(Data("proxy-auto"), Inventory, [At("proxy-auto", early)], Target.Sentinel, TimeSpan.FromMinutes(15));
        Assert.Empty(result.Dismissals);
        Assert.Equal(early, Assert.Single(result.Containments).At);
    }

    [Fact]
    public async Task An_automatic_rule_contains_at_once_while_another_rule_s_containment_is_held()
    {
        var held = At("proxy-auto", T0.AddMinutes(5)) with { Rule = "llm-key-new-user-agent-family" };
        var result = await ResponsePlayback.RunAsync(Data("proxy-auto"), Inventory, [held, At("proxy-auto", T0.AddMinutes(8))], Target.Sentinel, TimeSpan.FromMinutes(15));
        var containment = Assert.Single(result.Containments);
        Assert.Equal((T0.AddMinutes(8), "contain.litellm.block"), (containment.At, containment.Action));
        Assert.DoesNotContain(result.Actions, a => a.Action == "confirm");
    }

    [Fact]
    public void The_analyst_confirms_an_alert_naming_no_key_by_the_attack_s_addresses()
    {
        var label = new AttackLabel("credential-stuffing", "oa-key", T0, T0.AddMinutes(10)) { Addresses = ["198.51.100.99"] };
        var byAddress = new Alert("llm-address-many-keys-tried", Guid.Empty, Target.Elastic, T0.AddMinutes(5), null, "high", "t", "s",
            new System.Text.Json.Nodes.JsonObject { ["client_ip"] = "198.51.100.99" }, T0, []);
        Assert.True(ResponsePlayback.AnalystConfirms(byAddress, [label]));
        Assert.False(ResponsePlayback.AnalystConfirms(byAddress with { Evidence = new System.Text.Json.Nodes.JsonObject { ["client_ip"] = "203.0.113.7" } }, [label]));
    }

    [Fact]
    public async Task A_second_attack_on_a_contained_key_is_a_new_incident_on_its_replacement()
    {
        var later = T0.AddHours(6);
        var data = Data("oa-key") with { Labels = [new AttackLabel("burst", "oa-key", T0, T0.AddMinutes(59)), new AttackLabel("slow", "oa-key", later, later.AddHours(2))] };
        // The second alert's events began before the containment; the third's after it, but it is the same attack.
        var alerts = new[] { At("oa-key", T0.AddMinutes(10)), At("oa-key", T0.AddMinutes(40)), At("oa-key", T0.AddMinutes(50)) with { FirstSeen = T0.AddMinutes(45) }, At("oa-key", later.AddMinutes(30)) with { FirstSeen = later } };
        var result = await ResponsePlayback.RunAsync(data, Inventory, alerts, Target.Sentinel, TimeSpan.FromMinutes(15));
        Assert.Equal([T0.AddMinutes(25), later.AddMinutes(45)], result.Containments.Select(c => c.At));
        Assert.All(result.Actions.Where(a => a.Action == "contain.openai.delete"), a => Assert.True(a.Ok));
        Assert.Equal([TimeSpan.FromMinutes(25), TimeSpan.FromMinutes(45)], result.Scenarios.OrderBy(s => s.Scenario == "slow").Select(s => s.MeanTimeToRevoke!.Value));
    }

    [Fact]
    public async Task A_low_severity_alert_contains_nothing()
    {
        var result = await ResponsePlayback.RunAsync(Data("oa-key"), Inventory, [At("oa-key", T0.AddMinutes(10), severity: "low")], Target.Sentinel, TimeSpan.Zero);
        Assert.Empty(result.Containments);
    }
}
