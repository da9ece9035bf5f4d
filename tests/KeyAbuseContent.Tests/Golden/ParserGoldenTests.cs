using System.Text;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Targets.Sentinel;
using KeyAbuseContent.Validation.Kql;

namespace KeyAbuseContent.Tests.Golden;

/// <summary>
/// Each raw source's parsers on its recorded-format dataset (test-data/vendor/&lt;source&gt;): what the Sentinel view
/// returns over the native tables and what the Elastic data stream holds after the shipped ingest pipeline, each a
/// golden file (Golden/parsers), and the two the same normalized events.
/// </summary>
public class ParserGoldenTests
{
    public static TheoryData<string> SourceNames() => [.. RawSources.All.Select(s => s.Name)];

    private static Dataset Recorded(RawSource source)
    {
        var dataset = DatasetLoader.Load(Path.Combine(TestPaths.TestData, "vendor", source.RawFile));
        Assert.Empty(dataset.Problems);
        Assert.Contains(dataset.Raw, r => r.Source == source);
        return dataset;
    }

    /// <summary>The source's parser (the view it feeds when it is read in the view's body), over a workspace holding only the dataset's raw tables.</summary>
    public static DataTable Sentinel(RawSource source, Dataset dataset)
    {
        var tables = new Dictionary<string, DataTable>(StringComparer.Ordinal);
        foreach (var t in SentinelParsers.Tables)
        {
            tables[t.Name] = new DataTable(t.Name, [.. t.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], []);
        }
        foreach (var t in SentinelTableSchemas.Load(Path.Combine(TestPaths.Detections, "reference", "sentinel-tables")))
        {
            tables[t.Name] = new DataTable(t.Name, [.. t.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], []);
        }
        foreach (var (name, table) in RawTables.Sentinel(dataset))
        {
            tables[name] = table;
        }
        // The watchlists the views read (the control plane's view is a source's parser, and it looks addresses up).
        tables[TargetTables.WatchlistTable] = TargetTables.SentinelWatchlist(dataset);
        tables[TargetTables.GeoWatchlistTable] = TargetTables.SentinelGeoWatchlist(dataset);
        var functions = SentinelParsers.Functions.Select(f => new KqlFunction(f.Name, [], f.Body))
            .Append(new KqlFunction("_GetWatchlist", [("watchlistAlias", "string")], TargetTables.GetWatchlistBody)).ToList();
        var query = KqlRenderer.Render(KqlNodes.FromFunction(source.SentinelParser).Then(new KqlSort([(KqlNodes.Col("TimeGenerated"), false)])));
        return new KqlEngine().Execute(query, tables, functions, dataset.Span!.Value.Last).Table;
    }

    /// <summary>The source's data stream after its ingest pipeline, the source's fields in order.</summary>
    public static DataTable Elastic(RawSource source, Dataset dataset)
    {
        var (indices, problems) = RawTables.Elastic(dataset);
        Assert.Empty(problems);
        var fields = source.Target.Fields.Where(f => f.Name != "tokens").Select(f => f.Esql);
        var query = $"FROM {RawTables.ElasticStream(source)} | SORT @timestamp ASC | KEEP {string.Join(", ", fields)}";
        return new EsqlEngine().Execute(query, indices, dataset.Span!.Value.Last).Table;
    }

    private static string Lines(DataTable table)
    {
        var sb = new StringBuilder();
        foreach (var row in table.Rows)
        {
            sb.Append(Evidence.Of(table, row).ToJsonString()).Append('\n');
        }
        return sb.ToString();
    }

    private static void Golden(string name, string actual)
    {
        var path = Path.Combine(GoldenBuilds.GoldenDir("parsers"), name);
        if (GoldenBuilds.Updating)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"{name} has no golden file; run `make golden` and review the new file");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    [Theory]
    [MemberData(nameof(SourceNames))]
    public void SentinelParserOutputMatchesItsGoldenFile(string name)
    {
        var source = RawSources.Named(name)!;
        Golden(name + ".sentinel.jsonl", Lines(Sentinel(source, Recorded(source))));
    }

    [Theory]
    [MemberData(nameof(SourceNames))]
    public void ElasticPipelineOutputMatchesItsGoldenFile(string name)
    {
        var source = RawSources.Named(name)!;
        Golden(name + ".elastic.jsonl", Lines(Elastic(source, Recorded(source))));
    }

    /// <summary>A table's rows as normalized field to text, empty strings as missing, in a stable order.</summary>
    private static List<string> Normalized(DataTable table, Func<SourceField, string> column, RawSource source)
    {
        var fields = source.Target.Fields.Where(f => f.Name != "tokens").ToList();
        return [.. table.Rows.Select(row =>
        {
            var evidence = Evidence.Of(table, row);
            var normalized = new JsonObject();
            foreach (var f in fields)
            {
                var value = evidence[column(f)];
                normalized[f.Name] = value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length == 0 ? null : value?.DeepClone();
            }
            return normalized.ToJsonString();
        }).Order(StringComparer.Ordinal)];
    }

    [Theory]
    [MemberData(nameof(SourceNames))]
    public void BothTargetsNormalizeARecordAlike(string name)
    {
        var source = RawSources.Named(name)!;
        var dataset = Recorded(source);
        var sentinel = Normalized(Sentinel(source, dataset), f => f.Name == "time" ? "TimeGenerated" : f.Kql, source);
        var elastic = Normalized(Elastic(source, dataset), f => f.Esql, source);
        Assert.Equal(dataset.Raw.Count(r => r.Source == source), elastic.Count);
        Assert.Equal(sentinel, elastic);
    }
}
