using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Harness.Tables;

/// <summary>How vendor records reach Elastic in the harness.</summary>
public enum ElasticIngestPath
{
    /// <summary>Through Elastic's own integration where one collects the source, then the pack's @custom pipeline.</summary>
    Integration,

    /// <summary>As JSON lines through the pack's raw-line pipelines, for customers without the integration.</summary>
    RawLine,
}

/// <summary>A raw record Elasticsearch would reject: its pipeline failed on it.</summary>
public sealed record IngestProblem(string File, int Line, string Pipeline, string Message)
{
    public override string ToString() => $"{File}:{Line}: ingest pipeline {Pipeline} rejected the record: {Message}";
}

/// <summary>
/// A dataset's vendor logs as each platform stores them before any parser runs. Sentinel: the native table each
/// source lands in (the AWS connector's AWSCloudTrail columns; a custom table of the record's top-level fields
/// with TimeGenerated the record's time, as the pack's data collection rule writes it). Elastic: each record as
/// the shipper sends it (the JSON line in <c>message</c>) run through the pack's ingest pipeline, the very JSON
/// the bundle ships, into its data stream, typed by the data stream's mapping.
/// </summary>
public static class RawTables
{
    /// <summary>
    /// The Sentinel tables of every raw source (empty when the dataset has none of its records); sources sharing a
    /// native table (AzureDiagnostics categories) fill one table with the union of their columns.
    /// </summary>
    public static Dictionary<string, DataTable> Sentinel(Dataset dataset)
    {
        var tables = new Dictionary<string, DataTable>(StringComparer.Ordinal);
        foreach (var group in RawSources.Tables.GroupBy(s => s.SentinelTable, StringComparer.Ordinal))
        {
            var native = !group.First().CustomTable;
            var columns = new List<ColumnSchema> { new("TimeGenerated", "datetime") };
            if (native)
            {
                columns.Add(new("Type", "string"));
            }
            var paths = new List<RawColumn>();
            foreach (var c in group.SelectMany(s => s.Columns))
            {
                if (paths.All(p => p.Column != c.Column))
                {
                    paths.Add(c);
                    columns.Add(new(c.Column, c.KqlType));
                }
            }
            var rows = new List<object?[]>();
            foreach (var record in dataset.Raw.Where(r => r.Source.SentinelTable == group.Key))
            {
                var row = new List<object?> { record.Time };
                if (native)
                {
                    row.Add(group.Key);
                }
                row.AddRange(paths.Select(c => KqlValue(RawRecordReader.Find(record.Json, c.Path), c.KqlType)));
                rows.Add([.. row]);
            }
            tables[group.Key] = new DataTable(group.Key, columns, rows);
        }
        return tables;
    }

    /// <summary>A record's value in a Log Analytics column of a type; strings are never null.</summary>
    private static object? KqlValue(JsonNode? node, string type)
    {
        if (type == "dynamic")
        {
            return node?.DeepClone();
        }
        if (node is null)
        {
            return type == "string" ? "" : null;
        }
        var text = node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node.ToJsonString();
        return type switch
        {
            "string" => text,
            "datetime" => RawRecordReader.Time(node, RawTimeFormat.Iso8601),
            "long" or "int" => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null,
            "real" => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            "bool" => text switch { "true" => true, "false" => false, _ => null },
            _ => text,
        };
    }

    /// <summary>
    /// The Elastic data streams of every raw source after its ingest pipeline, and the records it rejected. A joined
    /// source's tables go through their pipelines to staging streams, then through the shipped pivot transform and its
    /// destination pipeline into the index the source's data stream name is an alias of. With
    /// <see cref="ElasticIngestPath.Integration"/> (the default), a source that one of Elastic's own integrations
    /// collects arrives as that integration's document (<see cref="IntegrationDocuments"/>) in the integration's data
    /// stream and goes through the pack's shipped <c>@custom</c> pipeline, as it does for a customer running the
    /// integration; with <see cref="ElasticIngestPath.RawLine"/> every source goes through the pack's raw-line pipeline.
    /// </summary>
    public static (Dictionary<string, DataTable> Indices, ImmutableArray<IngestProblem> Problems) Elastic(Dataset dataset, ElasticIngestPath path = ElasticIngestPath.Integration)
    {
        var problems = ImmutableArray.CreateBuilder<IngestProblem>();
        var geo = new GeoEnrichment(dataset.Geo);
        var staged = new Dictionary<RawSource, List<JsonObject>>();
        var streams = new Dictionary<RawSource, string>();
        var integrationPipelines = IntegrationPipelines(geo);
        foreach (var source in RawSources.Tables)
        {
            var integration = path == ElasticIngestPath.Integration ? ElasticIntegrations.For(source) : null;
            var pipeline = integration is null
                ? new IngestPipeline(source.ElasticPipeline, ElasticIngestPipelines.Pipeline(source), geo)
                : integrationPipelines[integration.CustomPipeline];
            var docs = staged[source] = [];
            streams[source] = ElasticStream(source, path);
            var sentTo = integration is null ? source.ElasticDataStream : IntegrationDocuments.DataStream(integration);
            foreach (var record in dataset.Raw.Where(r => r.Source == source))
            {
                var doc = integration is null ? new JsonObject { ["message"] = record.Text } : IntegrationDocuments.For(record)!;
                try
                {
                    var landed = pipeline.Run(doc, sentTo).Rerouted ?? sentTo;
                    if (landed != streams[source])
                    {
                        problems.Add(new IngestProblem(record.File, record.Line, pipeline.Name, $"the document landed in {landed}, not in {streams[source]}, which the rules read for {source.Name}"));
                        continue;
                    }
                }
                catch (IngestFailureException e)
                {
                    problems.Add(new IngestProblem(record.File, record.Line, pipeline.Name, e.Message));
                    continue;
                }
                docs.Add(doc);
            }
        }
        var indices = new Dictionary<string, DataTable>(StringComparer.Ordinal);
        foreach (var source in RawSources.All)
        {
            var docs = source.Join is { } join ? Joined(source, staged[source].Concat(staged[join.Table]), geo, problems) : staged[source];
            var mapping = ElasticIngestPipelines.Mapping(source);
            var rows = docs.Select(doc => (object?[])[.. mapping.Select(m => EsValue(IngestPipeline.Get(doc, m.Field), m.Type))]).ToList();
            var name = streams[source];
            indices.Add(name, new DataTable(name, [.. mapping.Select(m => new ColumnSchema(m.Field, m.Type))], rows));
        }
        return (indices, problems.ToImmutable());
    }

    /// <summary>The data stream a source's documents land in on a path (an integration's, or where its @custom pipeline reroutes them).</summary>
    public static string ElasticStream(RawSource source, ElasticIngestPath path = ElasticIngestPath.Integration) =>
        path == ElasticIngestPath.Integration && ElasticIntegrations.For(source) is { } i
            ? i.RerouteDataset is { } d ? $"logs-{d}-{IntegrationDocuments.Namespace}" : IntegrationDocuments.DataStream(i)
            : source.ElasticDataStream;

    /// <summary>The shipped @custom pipelines by name, each resolving the mapping pipelines it calls.</summary>
    public static Dictionary<string, IngestPipeline> IntegrationPipelines(IEnrichPolicies geo)
    {
        var mapping = ElasticIntegrations.All.ToDictionary(i => i.MappingPipeline, i => new IngestPipeline(i.MappingPipeline, ElasticIntegrations.MappingPipeline(i), geo), StringComparer.Ordinal);
        return ElasticIntegrations.All.Select(i => i.CustomPipeline).Distinct().ToDictionary(
            name => name,
            name => new IngestPipeline(name, ElasticIntegrations.CustomPipeline(name[("logs-".Length)..^"@custom".Length]), geo, n => mapping.GetValueOrDefault(n)),
            StringComparer.Ordinal);
    }

    /// <summary>A joined source's staging documents through its transform and the transform's destination pipeline.</summary>
    private static List<JsonObject> Joined(RawSource source, IEnumerable<JsonObject> staging, GeoEnrichment geo, ImmutableArray<IngestProblem>.Builder problems)
    {
        var name = ElasticRawJoins.TransformName(source);
        var transform = new PivotTransform(name, ElasticRawJoins.Transform(source));
        var pipeline = new IngestPipeline(name, ElasticRawJoins.DestPipeline(source), geo);
        var output = new List<JsonObject>();
        foreach (var doc in transform.Run(staging))
        {
            try
            {
                pipeline.Run(doc);
            }
            catch (IngestFailureException e)
            {
                problems.Add(new IngestProblem("transform " + name, 0, pipeline.Name, e.Message));
                continue;
            }
            output.Add(doc);
        }
        return output;
    }

    /// <summary>A document's field as the mapping indexes it (a multi-value for an array).</summary>
    private static object? EsValue(JsonNode? node, string type)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonArray array:
                var values = array.Select(n => EsValue(n, type)).Where(v => v is not null).ToImmutableArray();
                return values.Length switch { 0 => null, 1 => values[0], _ => values };
        }
        var text = node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node.ToJsonString();
        return type switch
        {
            "date" => node is JsonValue dv ? IngestPipeline.ParseDate(dv, "ISO8601") : null,
            "long" => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null,
            "double" => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            "boolean" => text == "true",
            _ => text,
        };
    }
}
