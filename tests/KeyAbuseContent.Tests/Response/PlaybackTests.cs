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
    public async Task A_low_severity_alert_contains_nothing()
    {
        var result = await ResponsePlayback.RunAsync(Data("oa-key"), Inventory, [At("oa-key", T0.AddMinutes(10), severity: "low")], Target.Sentinel, TimeSpan.Zero);
        Assert.Empty(result.Containments);
    }
}
