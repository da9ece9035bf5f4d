using KeyAbuseContent.Engine.Data;
using static KeyAbuseContent.Tests.Engine.Esql.EsqlTestKit;
using static KeyAbuseContent.Tests.Engine.Esql.GeneratedRules;
using Row = System.Collections.Generic.Dictionary<string, object?>;

namespace KeyAbuseContent.Tests.Engine.Esql;

/// <summary>The published queries find what they are written to find, on hand-made rows.</summary>
public class GeneratedQueryResultTests
{
    private static Row Call(string key, DateTime time, string operation = "chat", long status = 200, string? model = "gpt-4o-mini", long input = 100, long output = 50, string? country = "US", string ip = "203.0.113.5", string agent = "app/1.0") => new()
    {
        ["@timestamp"] = time,
        ["keyabuse.key.id"] = key,
        ["gen_ai.operation.name"] = operation,
        ["http.response.status_code"] = status,
        ["gen_ai.request.model"] = model,
        ["gen_ai.usage.input_tokens"] = input,
        ["gen_ai.usage.output_tokens"] = output,
        ["source.geo.country_iso_code"] = country,
        ["source.ip"] = ip,
        ["user_agent.original"] = agent,
    };

    private static DataTable Activity(IEnumerable<Row> rows) => Index("logs-keyabuse.activity-default", GeneratedRules.Activity, [.. rows]);

    private static object? Cell(DataTable table, int row, string column) => table.Rows[row][table.IndexOf(column)];

    [Fact]
    public void AuthFailureBurstReportsTwentyFiveFailuresOfAKey()
    {
        var rows = Enumerable.Range(0, 25).Select(i => Call("k-stolen", Now.AddMinutes(-4).AddSeconds(i * 5), status: 401))
            .Concat(Enumerable.Range(0, 5).Select(i => Call("k-stolen", Now.AddMinutes(-3), status: 200)))
            .Concat(Enumerable.Range(0, 10).Select(i => Call("k-other", Now.AddMinutes(-3), status: 403)))
            .Concat(Enumerable.Range(0, 3).Select(i => Call("k-stolen", Now.AddMinutes(-10), status: 401)));
        var table = Run(Rule("llm-key-auth-failure-burst"), Now, Activity(rows)).Table;
        Assert.Single(table.Rows);
        Assert.Equal("k-stolen", Cell(table, 0, "keyabuse.key.id"));
        Assert.Equal(25L, Cell(table, 0, "keyabuse.failures"));
        Assert.Equal(Now.AddMinutes(-4), Cell(table, 0, "keyabuse.first_seen"));
        Assert.Equal("Key k-stolen: 25 refused requests in 5 minutes", Cell(table, 0, "keyabuse.alert.title"));
        Assert.Equal("Key k-stolen was refused 25 times (401/403) between 2026-11-30 11:56 and 2026-11-30 11:58 UTC.", Cell(table, 0, "keyabuse.alert.summary"));
    }

    [Fact]
    public void RpmAboveBaselineComparesFiveMinutesWithItsHourOfWeekSlot()
    {
        const string Index = "keyabuse-baseline-llm-key-rpm-above-baseline";
        var bucket = Now.AddMinutes(-5);
        var rows = Enumerable.Range(0, 140).Select(i => Call("k1", bucket.AddMilliseconds(i * 2000)))
            .Concat(Enumerable.Range(0, 140).Select(i => Call("k2", bucket.AddMilliseconds(i * 2000))))
            .Concat(Enumerable.Range(0, 120).Select(i => Call("k3", bucket.AddMilliseconds(i * 2400))));
        // 2026-11-30 is a Monday: 11:55 is hour 11 of the week, and hour 11 of a weekday.
        var baseline = LookupIndex(Index,
            new Row { ["keyabuse.lookup_key"] = "llm-key-rpm-above-baseline|k1|hour_of_week:11", ["keyabuse.history.value"] = 10.0, ["keyabuse.history.samples"] = 5L },
            new Row { ["keyabuse.lookup_key"] = "llm-key-rpm-above-baseline|k3|hour_of_week:11", ["keyabuse.history.value"] = 1.0, ["keyabuse.history.samples"] = 2L },
            new Row { ["keyabuse.lookup_key"] = "llm-key-rpm-above-baseline|k3|day_type_hour:11", ["keyabuse.history.value"] = 20.0, ["keyabuse.history.samples"] = 4L });
        var table = Run(Rule("llm-key-rpm-above-baseline"), Now, Activity(rows), baseline).Table;
        Assert.Equal(["k1", "k3"], table.Rows.Select(r => r[0]).Order());
        var k1 = table.Rows.ToList().FindIndex(r => (string?)r[0] == "k1");
        Assert.Equal([140.0, 10.0, 14.0, 5L, "hour_of_week:11", bucket], table.Rows[k1][1..7]);
        Assert.Equal("Key k1: 140.0 requests in five minutes, 14.0x its baseline", Cell(table, k1, "keyabuse.alert.title"));
        var k3 = 1 - k1;
        Assert.Equal("day_type_hour:11", Cell(table, k3, "keyabuse.slot"));
        Assert.Equal(6.0, Cell(table, k3, "keyabuse.ratio"));
    }

    private static readonly string[] TunedKeys = ["k1", "k2", "k3"];

    [Fact]
    public void RpmAboveBaselineHonoursTheTuningOfTheKeysService()
    {
        const string Index = "keyabuse-baseline-llm-key-rpm-above-baseline";
        var bucket = Now.AddMinutes(-5);
        var rows = TunedKeys.SelectMany(k => Enumerable.Range(0, 140).Select(i => Call(k, bucket.AddMilliseconds(i * 2000))));
        var baseline = LookupIndex(Index, [.. TunedKeys.Select(k => new Row
        {
            ["keyabuse.lookup_key"] = $"llm-key-rpm-above-baseline|{k}|hour_of_week:11", ["keyabuse.history.value"] = 20.0, ["keyabuse.history.samples"] = 4L,
        })]);
        // k1's floor is 100 x 2 = 200 (140 is under it), k2 must pass 10x its baseline (7x is not), k3 has no tuning.
        var inventory = LookupIndex("keyabuse-inventory",
            new Row { ["keyabuse.key.id"] = "k1", ["keyabuse.key.tuning.floor_scale"] = 2.0 },
            new Row { ["keyabuse.key.id"] = "k2", ["keyabuse.key.tuning.min_ratio"] = 10.0 });
        var table = Run(Rule("llm-key-rpm-above-baseline"), Now, Activity(rows), baseline, inventory).Table;
        Assert.Equal(["k3"], table.Rows.Select(r => r[0]));
    }

    [Fact]
    public void RpmAboveBaselineReadsTheBusierNeighbouringSlot()
    {
        const string Index = "keyabuse-baseline-llm-key-rpm-above-baseline";
        var bucket = Now.AddMinutes(-5);
        var rows = Enumerable.Range(0, 140).Select(i => Call("k1", bucket.AddMilliseconds(i * 2000)));
        // Hour 11's slot is quiet, hour 12's expects a job of 150 requests in five minutes: a job starting early.
        var baseline = LookupIndex(Index,
            new Row { ["keyabuse.lookup_key"] = "llm-key-rpm-above-baseline|k1|hour_of_week:11", ["keyabuse.history.value"] = 10.0, ["keyabuse.history.samples"] = 4L },
            new Row { ["keyabuse.lookup_key"] = "llm-key-rpm-above-baseline|k1|hour_of_week:12", ["keyabuse.history.value"] = 150.0, ["keyabuse.history.samples"] = 4L });
        var table = Run(Rule("llm-key-rpm-above-baseline"), Now, Activity(rows), baseline).Table;
        Assert.Empty(table.Rows);
    }

    [Fact]
    public void ModelOutsideProfileReportsAModelTheInventoryDoesNotDeclare()
    {
        var rows = Enumerable.Range(0, 3).Select(i => Call("k1", Now.AddMinutes(-3), model: "gpt-4o"))
            .Append(Call("k1", Now.AddMinutes(-3), model: "gpt-4o-mini"))
            .Append(Call("k1", Now.AddMinutes(-3), model: "o1", status: 404))
            .Append(Call("k2", Now.AddMinutes(-3), model: "o1"));
        var inventory = Index("keyabuse-inventory", Inventory,
            new Row { ["keyabuse.key.id"] = "k1", ["keyabuse.key.models"] = Many("gpt-4o-mini", "text-embedding-3-small") },
            new Row { ["keyabuse.key.id"] = "k2" });
        var table = Run(Rule("llm-key-model-outside-profile"), Now, Activity(rows), inventory).Table;
        var row = Assert.Single(table.Rows);
        Assert.Equal(["k1", "gpt-4o", Many("gpt-4o-mini", "text-embedding-3-small"), 3L, 450L], row[..5]);
        Assert.Equal("Key k1 made 3 successful requests to gpt-4o (450 tokens) from 2026-11-30 11:57 UTC; its inventory declares gpt-4o-mini, text-embedding-3-small.", Cell(table, 0, "keyabuse.alert.summary"));
    }

    [Fact]
    public void NewCountryHighTokensCountsTenMinutesFromTheFirstSighting()
    {
        var rows = new[]
        {
            Call("k1", Now.AddMinutes(-14), country: "RU", input: 10000, output: 1000),
            Call("k1", Now.AddMinutes(-10), country: "RU", input: 10000, output: 1000),
            Call("k1", Now.AddMinutes(-3), country: "RU", input: 90000, output: 1000),
            Call("k1", Now.AddMinutes(-10), country: "US", input: 90000, output: 1000),
            Call("k9", Now.AddMinutes(-10), country: "BR", input: 90000, output: 1000),
        };
        var values = LookupIndex("keyabuse-known-values-llm-key-new-country-high-tokens",
            new Row { ["keyabuse.lookup_key"] = "llm-key-new-country-high-tokens|k1|US", ["keyabuse.history.first_seen"] = Time("2026-11-01T00:00:00Z") });
        var entities = LookupIndex("keyabuse-known-entities-llm-key-new-country-high-tokens",
            new Row { ["keyabuse.entity_key"] = "llm-key-new-country-high-tokens|k1", ["keyabuse.entity_history.first_seen"] = Time("2026-11-01T00:00:00Z") });
        var table = Run(Rule("llm-key-new-country-high-tokens"), Now, Activity(rows), values, entities).Table;
        var row = Assert.Single(table.Rows);
        Assert.Equal(["k1", "RU", 22000L, 2L, Now.AddMinutes(-14), Now.AddMinutes(-10)], row[..6]);
    }

    [Fact]
    public void MissingOwnerOrExpiryReportsKeysWithoutEither()
    {
        var seen = Now.AddHours(-1);
        var inventory = Index("keyabuse-inventory", Inventory,
            new Row { ["@timestamp"] = seen, ["keyabuse.key.id"] = "k1", ["keyabuse.key.owner"] = "dana", ["keyabuse.key.expires"] = Time("2027-01-01T00:00:00Z") },
            new Row { ["@timestamp"] = seen, ["keyabuse.key.id"] = "k2", ["keyabuse.key.expires"] = Time("2027-01-01T00:00:00Z") },
            new Row { ["@timestamp"] = seen, ["keyabuse.key.id"] = "k3", ["keyabuse.key.owner"] = "", ["keyabuse.key.expires"] = Time("2027-01-01T00:00:00Z") },
            new Row { ["@timestamp"] = seen, ["keyabuse.key.id"] = "k4", ["keyabuse.key.owner"] = "eve" });
        var table = Run(Rule("llm-key-missing-owner-or-expiry"), Now, inventory).Table;
        Assert.Equal(["k2", "k3", "k4"], table.Rows.Select(r => r[table.IndexOf("keyabuse.key.id")]));
        Assert.Equal("keyabuse-inventory", Cell(table, 0, "_index"));
    }

    [Fact]
    public void AddressFanoutCountsDistinctPublicAddressesOfScriptedClients()
    {
        var start = Time("2026-11-30T11:40:00Z");
        var rows = Enumerable.Range(0, 25).Select(i => Call("k1", start.AddSeconds(i * 10), ip: $"198.51.100.{i + 1}", agent: "python-requests/2.31"))
            .Concat(Enumerable.Range(0, 25).Select(i => Call("k1", start.AddSeconds(i * 10), ip: $"198.51.100.{i + 1}", agent: "curl/8.5.0")))
            .Concat(Enumerable.Range(0, 25).Select(i => Call("k1", start, ip: $"10.0.0.{i + 1}", agent: "python-requests/2.31")))
            .Concat(Enumerable.Range(0, 25).Select(i => Call("k2", start, ip: $"198.51.100.{i + 1}", agent: "Mozilla/5.0")));
        var table = Run(Rule("fixture-address-fanout"), Now, Activity(rows)).Table;
        var row = Assert.Single(table.Rows);
        Assert.Equal(["k1", 25L], row[..2]);
    }

    [Fact]
    public void ModelProbingSequenceNeedsEveryStepInOrder()
    {
        var rows = new[]
        {
            Call("k1", Now.AddMinutes(-30), operation: "models.list"),
            Call("k1", Now.AddMinutes(-28), status: 404),
            Call("k1", Now.AddMinutes(-25)),
            Call("k2", Now.AddMinutes(-25)),
            Call("k3", Now.AddMinutes(-30), status: 404),
            Call("k3", Now.AddMinutes(-28), operation: "models.list"),
            Call("k3", Now.AddMinutes(-25)),
        };
        var table = Run(Rule("fixture-model-probing-sequence"), Now, Activity(rows)).Table;
        var row = Assert.Single(table.Rows);
        Assert.Equal(["k1", 1L, Now.AddMinutes(-30), 1L, Now.AddMinutes(-28), 1L, Now.AddMinutes(-25)], row[..7]);
    }

    [Fact]
    public void KeyMaterialInLogsMatchesTheOpenAiKeyShape()
    {
        var logs = Index("logs-keyabuse.logs-default", GeneratedRules.Logs,
            new Row { ["@timestamp"] = Now.AddMinutes(-5), ["host.name"] = "runner-1", ["log.file.path"] = "ci/build.log", ["message"] = "export OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxT3BlbkFJzzzz" },
            new Row { ["@timestamp"] = Now.AddMinutes(-5), ["host.name"] = "runner-2", ["log.file.path"] = "ci/build.log", ["message"] = "sk-proj-short-T3BlbkFJ" });
        var table = Run(Rule("fixture-openai-key-in-ci-logs"), Now, logs).Table;
        var row = Assert.Single(table.Rows);
        Assert.Equal(["runner-1", "ci/build.log", 1L], row[..3]);
    }

    [Fact]
    public void KeyNotRotatedCountsDaysFromTheInventorySnapshot()
    {
        var seen = Now.AddHours(-1);
        var inventory = Index("keyabuse-inventory", Inventory,
            new Row { ["@timestamp"] = seen, ["keyabuse.key.id"] = "old", ["keyabuse.key.created"] = Now.AddDays(-120) },
            new Row { ["@timestamp"] = seen, ["keyabuse.key.id"] = "fresh", ["keyabuse.key.created"] = Now.AddDays(-30) },
            new Row { ["@timestamp"] = seen, ["keyabuse.key.id"] = "rotated", ["keyabuse.key.created"] = Now.AddDays(-400), ["keyabuse.key.rotated"] = Now.AddDays(-10) });
        var table = Run(Rule("fixture-key-not-rotated"), Now, inventory).Table;
        Assert.Equal(["old"], table.Rows.Select(r => r[table.IndexOf("keyabuse.key.id")]));
    }
}
