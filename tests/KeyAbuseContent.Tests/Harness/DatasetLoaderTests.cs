using System.IO.Compression;
using System.Text;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Tables;

namespace KeyAbuseContent.Tests.Harness;

public sealed class DatasetLoaderTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "keyabuse-dataset-" + Guid.NewGuid().ToString("N"));

    public DatasetLoaderTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private const string Valid = """{"time":"2026-11-30T10:00:00Z","key_id":"k1","client_ip":"203.0.113.9","status":200,"input_tokens":10,"output_tokens":5,"request_id":"r1"}""";

    private void Events(params string[] lines) => File.WriteAllText(Path.Combine(_folder, "events.jsonl"), string.Join("\n", lines) + "\n");

    [Fact]
    public void AnInvalidLineIsReportedWithItsNumberAndSkipped()
    {
        Events(Valid, """{"key_id":"k1"}""", "not json");
        var dataset = DatasetLoader.Load(_folder);
        Assert.Single(dataset.Events);
        Assert.Equal([2, 3], dataset.Problems.Select(p => p.Line));
        Assert.Contains("'time' is required", dataset.Problems[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALabelMayGiveTheAddressesItsAttackCameFrom()
    {
        Events(Valid);
        File.WriteAllText(Path.Combine(_folder, "labels.json"), """
            [{"scenario":"credential-stuffing","key_id":"k1","start":"2026-11-30T10:00:00Z","end":"2026-11-30T10:05:00Z","addresses":["198.51.100.99"]},
             {"scenario":"volume-burst","key_id":"k1","start":"2026-11-30T11:00:00Z","end":"2026-11-30T11:05:00Z"}]
            """);
        Assert.Equal([["198.51.100.99"], []], DatasetLoader.Load(_folder).Labels.Select(l => l.Addresses.ToArray()));
    }

    [Fact]
    public void ATimeWithAnOffsetIsConvertedToUtc()
    {
        Events("""{"time":"2026-11-30T12:00:00+02:00","key_id":"k1"}""");
        Assert.Equal(new DateTime(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc), DatasetLoader.Load(_folder).Events[0].Time);
    }

    [Fact]
    public void ATimeWithoutAZoneIsRefused()
    {
        Events("""{"time":"2026-11-30T12:00:00","key_id":"k1"}""");
        Assert.Contains("with a zone", Assert.Single(DatasetLoader.Load(_folder).Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnixMillisecondsAreTimes()
    {
        Events("""{"time":1764496800000,"key_id":"k1"}""");
        Assert.Equal(new DateTime(2025, 11, 30, 10, 0, 0, DateTimeKind.Utc), DatasetLoader.Load(_folder).Events[0].Time);
    }

    [Fact]
    public void DuplicateRequestIdsAreDropped()
    {
        Events(Valid, Valid);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Single(dataset.Events);
        Assert.Contains("duplicate request_id 'r1'", dataset.Problems[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyIdShapedLikeASecretIsRefused()
    {
        Events("""{"time":"2026-11-30T10:00:00Z","key_id":"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"}""");
        Assert.Contains("shaped like a provider secret", Assert.Single(DatasetLoader.Load(_folder).Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GzippedEventsAreRead()
    {
        using (var file = File.Create(Path.Combine(_folder, "events.jsonl.gz")))
        using (var gzip = new GZipStream(file, CompressionLevel.SmallestSize))
        {
            gzip.Write(Encoding.UTF8.GetBytes(Valid + "\n"));
        }
        Assert.Single(DatasetLoader.Load(_folder).Events);
    }

    [Fact]
    public void GeoRangesAreLoadedAndEventsKeepWhatTheyCarry()
    {
        Events(Valid);
        File.WriteAllText(Path.Combine(_folder, "geo.csv"), "network,country,asn\n203.0.113.0/24,BR,64511\n");
        var dataset = DatasetLoader.Load(_folder);
        Assert.Equal((null, null), (dataset.Events[0].Country, dataset.Events[0].Asn));
        Assert.Equal(("BR", 64511L), (Assert.Single(dataset.Geo).Country, dataset.Geo[0].Asn));
    }

    [Fact]
    public void AnOverlappingGeoRangeIsReportedWithItsLineAndLeftOut()
    {
        File.WriteAllText(Path.Combine(_folder, "geo.csv"), "network,country,asn\n203.0.113.0/24,BR,64511\n198.51.100.0/24,US,64500\n203.0.113.128/25,DE,3320\n");
        var dataset = DatasetLoader.Load(_folder);
        Assert.Equal(["BR", "US"], dataset.Geo.Select(g => g.Country));
        var problem = Assert.Single(dataset.Problems);
        Assert.Equal((4, "203.0.113.128/25 overlaps the range of line 2; ranges must not overlap"), (problem.Line, problem.Message));
    }

    [Fact]
    public void InventoryDatesAndListsAreRead()
    {
        File.WriteAllText(Path.Combine(_folder, "inventory.yaml"), "keys:\n  - id: k1\n    owner: a@example.com\n    expires: 2027-01-01\n    models: [gpt-4o-mini, gpt-4.1]\n");
        var key = Assert.Single(DatasetLoader.Load(_folder).Inventory);
        Assert.Equal(new DateTime(2027, 1, 1, 0, 0, 0, DateTimeKind.Utc), key.Expires);
        Assert.Equal(["gpt-4o-mini", "gpt-4.1"], key.Models.ToArray());
    }

    [Fact]
    public void AKeyInheritsItsServicesTuningAndItsOwnWins()
    {
        File.WriteAllText(Path.Combine(_folder, "inventory.yaml"), """
            services:
              - name: etl
                tuning: {floor_scale: 5, min_ratio: 10}
            keys:
              - id: k1
                service: etl
              - id: k2
                service: etl
                tuning: {floor_scale: 2}
              - id: k3
                service: chat
            """);
        var keys = DatasetLoader.Load(_folder).Inventory.ToDictionary(k => k.Id);
        Assert.Equal((5.0, 10.0), (keys["k1"].FloorScale, keys["k1"].MinRatio));
        Assert.Equal((2.0, 10.0), (keys["k2"].FloorScale, keys["k2"].MinRatio));
        Assert.Equal((null, null), (keys["k3"].FloorScale, keys["k3"].MinRatio));
    }

    [Fact]
    public void ABadTuningIsReportedWithItsLineAndTheRestLoads()
    {
        File.WriteAllText(Path.Combine(_folder, "inventory.yaml"), """
            services:
              - name: etl
                tuning: {floor_scale: 0}
            keys:
              - id: k1
                service: etl
              - id: k2
                tuning: {multiplier: 3}
            """);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Equal(
            [(2, "service 'etl': tuning: floor_scale '0' is not a number above 0"), (7, "tuning: unknown setting 'multiplier' (floor_scale, min_ratio)")],
            dataset.Problems.Select(p => (p.Line, p.Message.Replace("key 'k2': ", "", StringComparison.Ordinal))));
        Assert.Equal(["k1"], dataset.Inventory.Select(k => k.Id));
    }

    [Fact]
    public void TuningReachesTheWatchlistAndTheLookupIndex()
    {
        File.WriteAllText(Path.Combine(_folder, "inventory.yaml"), "keys:\n  - id: k1\n    tuning: {floor_scale: 2.5}\n");
        var dataset = DatasetLoader.Load(_folder);
        var watchlist = TargetTables.SentinelWatchlist(dataset);
        Assert.Equal<(object?, object?)>(("2.5", ""), (watchlist.Rows[0][watchlist.IndexOf("floor_scale")], watchlist.Rows[0][watchlist.IndexOf("min_ratio")]));
        var index = TargetTables.ElasticInventory(dataset, new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Equal<(object?, object?)>((2.5, null), (index.Rows[0][index.IndexOf("keyabuse.key.tuning.floor_scale")], index.Rows[0][index.IndexOf("keyabuse.key.tuning.min_ratio")]));
    }

    [Fact]
    public void SentinelStringsAreNeverNull()
    {
        Events("""{"time":"2026-11-30T10:00:00Z","key_id":"k1"}""");
        var table = TargetTables.SentinelActivity(DatasetLoader.Load(_folder));
        Assert.Equal("", table.Rows[0][table.IndexOf("Model")]);
        Assert.Null(table.Rows[0][table.IndexOf("HttpStatusCode")]);
    }

    [Fact]
    public void ElasticMissingValuesAreNull()
    {
        Events("""{"time":"2026-11-30T10:00:00Z","key_id":"k1"}""");
        var table = TargetTables.ElasticActivity(DatasetLoader.Load(_folder));
        Assert.Null(table.Rows[0][table.IndexOf("gen_ai.request.model")]);
        Assert.Equal("k1", table.Rows[0][table.IndexOf("keyabuse.key.id")]);
    }

    [Fact]
    public void TheBundledDatasetsLoadWithoutProblems()
    {
        // edge/duplicate-request-ids holds events delivered more than once on purpose: LibraryEdgeCaseTests checks its problems.
        var deliberate = Path.Combine(TestPaths.TestData, "edge", "duplicate-request-ids");
        foreach (var folder in Directory.GetDirectories(TestPaths.TestData, "*", SearchOption.AllDirectories).Where(d => File.Exists(Path.Combine(d, "README.md")) && Directory.GetFiles(d).Length > 1 && d != deliberate))
        {
            Assert.Empty(DatasetLoader.Load(folder).Problems);
        }
    }
}
