using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Responder;
using KeyAbuseContent.Responder.Playback;
using KeyAbuseContent.Tests.Support;
using static KeyAbuseContent.Tests.Coverage.CoverageFixtures;

namespace KeyAbuseContent.Tests.Response;

/// <summary>
/// The response evidence of <c>keyabuse run --respond --evidence</c>: what a playback records, and when the
/// coverage gate may trust a file (written for the same library, build and dataset).
/// </summary>
public sealed class ResponseEvidenceTests
{
    private static readonly DateTime T0 = new(2026, 11, 30, 3, 0, 0, DateTimeKind.Utc);

    private static readonly DateTimeOffset At = new(T0, TimeSpan.Zero);

    private static ActionRecord Action(string action, string outcome, int? status = 200, int attempts = 1) =>
        new(At, action, "rule-a", "k1", outcome, status, attempts, "");

    /// <summary>A library of one stable rule, a dataset folder, and evidence written for them.</summary>
    private sealed class Recorded : IDisposable
    {
        public Recorded()
        {
            Datasets(Library);
            Library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", "11111111-2222-4333-8444-555555555501"));
            Directory.CreateDirectory(Dataset);
            System.IO.File.WriteAllText(Path.Combine(Dataset, "labels.json"), "[]\n");
            System.IO.File.WriteAllText(Path.Combine(Dataset, "events.jsonl"), "");
            Build = Library.Build();
            Assert.True(Build.Succeeded, string.Join("\n", Build.Diagnostics));
            ResponseEvidenceFile.Write(EvidenceFile, ResponseEvidenceRecorder.Record(Build, Dataset, "15m", []));
        }

        public TestLibrary Library { get; } = new();

        public PackBuild Build { get; }

        public string Dataset => Path.Combine(Library.Root, "org");

        public string EvidenceFile => Path.Combine(Library.Root, "response.json");

        public void Dispose() => Library.Dispose();
    }

    [Fact]
    public void A_held_deletion_is_recorded_as_confirmed_and_accepted()
    {
        var records = ResponseEvidenceRecorder.Containments("elastic", [Action("hold", "held", null), Action("confirm", "ok", null), Action("contain.openai.delete", "ok")]).ToList();
        var delete = Assert.Single(records);
        Assert.Equal(("openai", "delete", ContainmentRecord.Accepted, true), (delete.Provider, delete.Action, delete.Outcome, delete.Held));
    }

    [Fact]
    public void An_anthropic_deactivation_is_recorded_as_the_inactive_action()
    {
        var record = Assert.Single(ResponseEvidenceRecorder.Containments("sentinel", [Action("contain.anthropic.deactivate", "ok")]));
        Assert.Equal(("anthropic", "inactive", false), (record.Provider, record.Action, record.Held));
    }

    [Fact]
    public void A_containment_answered_4xx_is_recorded_as_refused()
    {
        var record = Assert.Single(ResponseEvidenceRecorder.Containments("sentinel", [Action("contain.litellm.clamp", "failed", 404)]));
        Assert.Equal(ContainmentRecord.Refused, record.Outcome);
    }

    [Fact]
    public void A_containment_accepted_after_retries_is_recorded_as_retried()
    {
        var record = Assert.Single(ResponseEvidenceRecorder.Containments("sentinel", [Action("contain.litellm.block", "ok", 200, attempts: 3)]));
        Assert.Equal(ContainmentRecord.Retried, record.Outcome);
    }

    [Fact]
    public void Notifications_are_not_containments()
    {
        Assert.Empty(ResponseEvidenceRecorder.Containments("sentinel", [Action("notify.slack", "ok"), Action("hold", "held", null)]));
    }

    [Fact]
    public async Task A_playback_records_its_containment_and_times_per_platform()
    {
        var inventory = new ResponseInventory([new ResponseKey("oa-key", "openai", null, null, null, null, "proj_abc", "key_abc", ContainmentPolicy.None)]);
        var dataset = new Dataset("x", [.. Enumerable.Range(0, 60).Select(m => new ActivityEvent(T0.AddMinutes(m), "oa-key", null, null, null, null, null, null, "openai", "gpt-4o", "chat", 100, 50, 200, null, null, null))],
            [new InventoryKey("oa-key", "openai", null, null, null, null, null, null, null, null, null, [], [], [], [])], [new AttackLabel("burst", "oa-key", T0, T0.AddMinutes(59))], [], []);
        var alert = new Alert("rule-a", Guid.Empty, Target.Elastic, T0.AddMinutes(10), "oa-key", "high", "t", "s", new System.Text.Json.Nodes.JsonObject(), T0, []);
        var playback = await ResponsePlayback.RunAsync(dataset, inventory, [alert], Target.Elastic, TimeSpan.FromMinutes(15));
        using var recorded = new Recorded();
        var evidence = ResponseEvidenceRecorder.Record(recorded.Build, recorded.Dataset, "15m", [playback]);
        var delete = Assert.Single(evidence.Containments);
        Assert.Equal(("elastic", "delete", true), (delete.Platform, delete.Action, delete.Held));
        var times = Assert.Single(evidence.Scenarios);
        Assert.Equal((600.0, 600.0, 1500.0), (times.MeanTimeToDetectSeconds, times.MeanTimeToNotifySeconds, times.MeanTimeToRevokeSeconds));
    }

    [Fact]
    public async Task A_dismissed_hold_is_recorded_with_its_times_and_read_back()
    {
        var inventory = new ResponseInventory([new ResponseKey("oa-key", "openai", null, null, null, null, "proj_abc", "key_abc", ContainmentPolicy.None)]);
        var dataset = new Dataset("x", [], [new InventoryKey("oa-key", "openai", null, null, null, null, null, null, null, null, null, [], [], [], [])], [new AttackLabel("burst", "oa-key", T0, T0.AddMinutes(59))], [], []);
        var alert = new Alert("rule-a", Guid.Empty, Target.Sentinel, T0.AddDays(-1), "oa-key", "high", "t", "s", new System.Text.Json.Nodes.JsonObject(), T0, []);
        var playback = await ResponsePlayback.RunAsync(dataset, inventory, [alert], Target.Sentinel, TimeSpan.FromMinutes(15));
        using var recorded = new Recorded();
        ResponseEvidenceFile.Write(recorded.EvidenceFile, ResponseEvidenceRecorder.Record(recorded.Build, recorded.Dataset, "15m", [playback]));
        var evidence = ResponseEvidenceFile.Read(recorded.EvidenceFile);
        Assert.Empty(evidence.Containments);
        Assert.Equal(new DismissalRecord("sentinel", "rule-a", "oa-key", T0.AddDays(-1), T0.AddDays(-1).AddMinutes(15)), Assert.Single(evidence.Dismissals));
    }

    [Fact]
    public void Evidence_recorded_for_the_current_library_build_and_dataset_is_trusted()
    {
        using var recorded = new Recorded();
        var input = ResponseEvidenceRecorder.Trust(recorded.EvidenceFile, recorded.Build);
        Assert.Null(input.Problem);
        Assert.NotNull(input.Evidence);
    }

    [Fact]
    public void A_missing_evidence_file_is_not_trusted_and_says_how_to_write_it()
    {
        using var recorded = new Recorded();
        var input = ResponseEvidenceRecorder.Trust(Path.Combine(recorded.Library.Root, "nope.json"), recorded.Build);
        Assert.Null(input.Evidence);
        Assert.Contains("does not exist (run `keyabuse run --dataset DIR --respond --evidence", input.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Evidence_is_stale_once_the_dataset_changes()
    {
        using var recorded = new Recorded();
        File.WriteAllText(Path.Combine(recorded.Dataset, "labels.json"), """[{"scenario":"s","key_id":"k1","start":"2026-11-30T00:00:00Z","end":"2026-11-30T01:00:00Z"}]""");
        Assert.StartsWith("stale response evidence", ResponseEvidenceRecorder.Trust(recorded.EvidenceFile, recorded.Build).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Evidence_is_stale_once_a_rule_changes()
    {
        using var recorded = new Recorded();
        recorded.Library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", "11111111-2222-4333-8444-555555555501").Replace("failures >= 20", "failures >= 25", StringComparison.Ordinal));
        Assert.StartsWith("stale response evidence", ResponseEvidenceRecorder.Trust(recorded.EvidenceFile, recorded.Library.Build()).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_written_by_a_run_beside_the_dataset_does_not_make_the_evidence_stale()
    {
        using var recorded = new Recorded();
        File.WriteAllText(Path.Combine(recorded.Dataset, "alerts.jsonl"), "{}\n");
        Assert.Null(ResponseEvidenceRecorder.Trust(recorded.EvidenceFile, recorded.Build).Problem);
    }

    [Fact]
    public void A_file_that_is_not_evidence_is_not_trusted()
    {
        using var recorded = new Recorded();
        File.WriteAllText(recorded.EvidenceFile, """{"format":"keyabuse-test-results/1","rules":[]}""");
        Assert.Contains("is not a response evidence file", ResponseEvidenceRecorder.Trust(recorded.EvidenceFile, recorded.Build).Problem, StringComparison.Ordinal);
    }
}
