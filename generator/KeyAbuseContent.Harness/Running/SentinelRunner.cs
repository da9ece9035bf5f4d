using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Build;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Engines;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Targets.Sentinel;

namespace KeyAbuseContent.Harness.Running;

/// <summary>How the harness plays the platforms' clocks.</summary>
public sealed record RunOptions
{
    /// <summary>How long after its scheduled time Sentinel runs a scheduled rule.</summary>
    public TimeSpan SentinelRunDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after it happened an event becomes visible to queries.</summary>
    public TimeSpan IngestionDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How many of the detections that fall at one clock time run at once (the results do not depend on it).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Whether every Sentinel run parses its own slice of the activity tables instead of reading the slice of the
    /// parser's output over the whole dataset (<see cref="ActivityView"/>; the results are the same, which a test
    /// checks with this switch).
    /// </summary>
    public bool ParseEachRun { get; init; }

    /// <summary>The most alerts a Sentinel run makes.</summary>
    public int SentinelMaxAlertsPerRun { get; init; } = 150;

    /// <summary>Where the Sentinel queries run: null for the embedded executor, or a real cluster (<see cref="KustoEngine"/>).</summary>
    public IKqlQueryEngine? KqlEngine { get; init; }

    /// <summary>Where the Elastic rules' queries run: null for the embedded executor, or a real cluster (<see cref="ElasticsearchEngine"/>).</summary>
    public IEsqlQueryEngine? EsqlEngine { get; init; }

    /// <summary>
    /// When a dataset has no events (an inventory audit, say), each rule runs once, at its first scheduled time
    /// at or after this clock. Default: the current day.
    /// </summary>
    public DateTime? Clock { get; init; }

    /// <summary>The span the rules run over: the events', or one instant at the clock when there are none.</summary>
    public (DateTime First, DateTime Last, bool Once) Span(Datasets.Dataset dataset) => dataset.Span is { } span
        ? (span.First, span.Last, false)
        : (Clock ?? RunSchedule.Floor(DateTime.UtcNow, TimeSpan.FromDays(1)), Clock ?? RunSchedule.Floor(DateTime.UtcNow, TimeSpan.FromDays(1)), true);

    /// <summary>The scheduled times of a job over the run span.</summary>
    public IEnumerable<DateTime> Times(Datasets.Dataset dataset, TimeSpan every)
    {
        var (first, last, once) = Span(dataset);
        var times = RunSchedule.Times(first, last, every);
        return once ? times.Take(1) : times;
    }
}

/// <summary>
/// What Sentinel runners over one dataset (the alerting run and parity's run without delay) can share: one KQL
/// engine, whose columnar copies and bound plans serve both, and the activity table in time order, built once.
/// Both are safe to use from several threads.
/// </summary>
public sealed class SentinelShare(Dataset dataset)
{
    private readonly Lazy<TimeSlices> _activity = new(() => new TimeSlices(TargetTables.SentinelActivity(dataset), "TimeGenerated"));

    public Dataset Dataset { get; } = dataset;

    public KqlEngine Engine { get; } = new();

    public TimeSlices Activity => _activity.Value;
}

/// <summary>One scheduled run of a rule and what its query returned, before the platform's alerting.</summary>
public sealed record RunResult(string Rule, Target Target, DateTime ScheduledAt, DateTime ExecutedAt, DataTable Rows);

/// <summary>
/// Plays Microsoft Sentinel over a dataset: the workspace's tables and parser functions, the summary rules
/// (hourly) and baseline refreshes (daily) writing the history tables, and every analytics rule on its
/// schedule — run <see cref="RunOptions.SentinelRunDelay"/> after its scheduled time over its query period,
/// with the trigger threshold, alert-per-result and the per-run alert cap. Queries are the published text,
/// executed by the embedded KQL engine with <c>now()</c> the run time.
/// </summary>
public sealed class SentinelRunner
{
    private readonly IKqlQueryEngine _engine;
    private readonly RunOptions _options;
    private readonly string _referenceTables;
    private readonly SentinelShare? _share;

    /// <summary>A runner with its own engine, or the engine and activity table of <paramref name="share"/> (shared with other Sentinel runners over the same dataset).</summary>
    public SentinelRunner(RunOptions options, string rulesDir, SentinelShare? share = null)
    {
        _options = options;
        _referenceTables = Path.Combine(rulesDir, "reference", "sentinel-tables");
        _share = share;
        _engine = options.KqlEngine ?? new EmbeddedKqlEngine(share?.Engine ?? new KqlEngine());
    }

    /// <summary>Whether the last run read the activity parser's output over the whole dataset (<see cref="ActivityView"/>).</summary>
    public bool ReadActivityView { get; private set; }

    private static readonly KqlFunction Watchlist = new("_GetWatchlist", [("watchlistAlias", "string")], TargetTables.GetWatchlistBody);

    private static IReadOnlyList<KqlFunction> Functions() =>
        [.. SentinelParsers.Functions.Select(f => new KqlFunction(f.Name, [], f.Body)), Watchlist];

    /// <summary>The tables every run sees besides the activity slice: empty ones for sources the dataset lacks.</summary>
    private Dictionary<string, DataTable> StaticTables(Dataset dataset)
    {
        var tables = new Dictionary<string, DataTable>(StringComparer.Ordinal);
        foreach (var t in SentinelParsers.Tables)
        {
            tables[t.Name] = new DataTable(t.Name, [.. t.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], []);
        }
        foreach (var reference in Validation.Kql.SentinelTableSchemas.Load(_referenceTables).Where(t => t.Name is "AWSCloudTrail" or "AzureActivity"))
        {
            tables[reference.Name] = new DataTable(reference.Name, [.. reference.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], []);
        }
        tables[TargetTables.WatchlistTable] = TargetTables.SentinelWatchlist(dataset);
        tables[TargetTables.GeoWatchlistTable] = TargetTables.SentinelGeoWatchlist(dataset);
        return tables;
    }

    private abstract record Job(DateTime At, int Order);

    private sealed record SummaryJob(DateTime At, KqlSummaryRule Summary) : Job(At, 0);

    private sealed record RefreshJob(DateTime At, KqlRefresh Refresh) : Job(At, 1);

    /// <summary>
    /// One execution of a rule's query: the alerting run of <paramref name="AlertsFor"/> (run delay after it), the
    /// parity run of <paramref name="ParityFor"/> (no delay), or both when those fall at the same clock time.
    /// </summary>
    private sealed record DetectionJob(DateTime At, CompiledRule Rule, DateTime? AlertsFor, DateTime? ParityFor) : Job(At, 2);

    /// <summary>Runs every rule over the dataset; returns the raw run results and the alerts raised.</summary>
    public (IReadOnlyList<RunResult> Runs, IReadOnlyList<Alert> Alerts) Run(IReadOnlyList<CompiledRule> rules, Dataset dataset) => Run(rules, dataset, parity: false);

    /// <summary>
    /// Runs every rule over the dataset. The alerts are those the platform raises (each run
    /// <see cref="RunOptions.SentinelRunDelay"/> after its scheduled time); with <paramref name="parity"/> the
    /// results are those of each scheduled time run with no delay (Elastic's clock, for parity), otherwise those of
    /// the alerting runs. A parity run and an alerting run at the same clock time see the same data and the same
    /// history tables (summary rules and refreshes run on their own schedule, before the detections of that time),
    /// so they are one execution: with a 5-minute delay and a 5-minute rule, parity costs one run more, not twice.
    /// With <paramref name="results"/>, each result goes there as it is made and the returned list is empty (a
    /// caller comparing results as they come need not keep them all).
    /// </summary>
    public (IReadOnlyList<RunResult> Runs, IReadOnlyList<Alert> Alerts) Run(IReadOnlyList<CompiledRule> rules, Dataset dataset, bool parity, Action<RunResult>? results = null)
    {
        var runs = new List<RunResult>();
        var alerts = new List<Alert>();
        if (dataset.IsEmpty)
        {
            return (runs, alerts);
        }
        var tables = StaticTables(dataset);
        // The pack's activity table (shared between passes when it can be), the logs table and the native tables
        // vendor logs land in, each cut to what a run may read.
        List<TimeSlices> sliced = [_share is not null && ReferenceEquals(_share.Dataset, dataset) ? _share.Activity : new TimeSlices(TargetTables.SentinelActivity(dataset), "TimeGenerated"),
            new TimeSlices(TargetTables.SentinelLogs(dataset), "TimeGenerated"),
            .. RawTables.Sentinel(dataset).Values.Select(t => new TimeSlices(t, "TimeGenerated"))];
        void Slice(DateTime from, DateTime to)
        {
            foreach (var t in sliced)
            {
                var slice = t.Slice(from, to);
                tables[slice.Name] = slice;
            }
        }
        // A remote engine holds the whole workspace (every row, history tables empty) and applies each run's scope
        // itself, as the platform does; the embedded engine reads the slices it is handed and loads nothing.
        var workspace = new Dictionary<string, DataTable>(tables, StringComparer.Ordinal);
        foreach (var t in sliced)
        {
            var whole = t.Slice(DateTime.MinValue, DateTime.MaxValue);
            workspace[whole.Name] = whole;
        }
        _engine.Load(workspace, Functions());
        var hourly = new List<object?[]>();
        var baseline = new List<object?[]>();
        var hourlySchema = tables[HistoryTables.SentinelHourly].Columns;
        var baselineSchema = tables[HistoryTables.SentinelBaseline].Columns;
        var functions = Functions();
        ReadActivityView = false;
        // The activity parser once per source table instead of once a run, when that gives every run the same rows
        // (the embedded engine only: a real engine runs the published parser functions over what it holds).
        if (!_options.ParseEachRun && _engine is EmbeddedKqlEngine embedded && ActivityView.Build(embedded.Engine, tables, sliced, functions, _options.Span(dataset).First) is { } view)
        {
            sliced.AddRange(view.Views);
            functions = view.Functions;
            ReadActivityView = true;
        }
        TimeSlices? hourlySlices = null;
        TimeSlices? baselineSlices = null;

        var jobs = new List<Job>();
        foreach (var rule in rules)
        {
            foreach (var s in rule.Sentinel.Plan.SummaryRules)
            {
                jobs.AddRange(_options.Times(dataset, s.BinSize).Select(t => new SummaryJob(t, s)));
            }
            foreach (var r in rule.Sentinel.Plan.Refreshes)
            {
                jobs.AddRange(_options.Times(dataset, r.Every).Select(t => new RefreshJob(t, r)));
            }
            var every = rule.Sentinel.Rule.QueryFrequency;
            var detections = new SortedDictionary<DateTime, DetectionJob>();
            foreach (var t in _options.Times(dataset, every))
            {
                var alertAt = t + _options.SentinelRunDelay;
                detections[alertAt] = detections.TryGetValue(alertAt, out var j) ? j with { AlertsFor = t } : new DetectionJob(alertAt, rule, t, null);
                if (parity)
                {
                    detections[t] = detections.TryGetValue(t, out var p) ? p with { ParityFor = t } : new DetectionJob(t, rule, null, t);
                }
            }
            jobs.AddRange(detections.Values);
        }
        var ordered = jobs.OrderBy(j => j.At).ThenBy(j => j.Order).ToList();
        for (var next = 0; next < ordered.Count;)
        {
            var job = ordered[next];
            var visibleUntil = job.At - _options.IngestionDelay;
            switch (job)
            {
                case SummaryJob s:
                    {
                        next++;
                        var bin = s.Summary.BinSize;
                        Slice(s.At - bin, Min(s.At, visibleUntil));
                        var result = _engine.Execute(KqlRenderer.Render(s.Summary.Query), tables, functions, new QueryScope(s.At, s.At - bin, Min(s.At, visibleUntil) - TimeSpan.FromTicks(1)));
                        var written = Project(result, hourlySchema, null).ToList();
                        hourly.AddRange(written);
                        _engine.Append(HistoryTables.SentinelHourly, hourlySchema, written);
                        tables[HistoryTables.SentinelHourly] = new DataTable(HistoryTables.SentinelHourly, hourlySchema, [.. hourly]);
                        hourlySlices = new TimeSlices(tables[HistoryTables.SentinelHourly], "TimeGenerated");
                        break;
                    }
                case RefreshJob r:
                    {
                        next++;
                        var result = _engine.Execute(KqlRenderer.Render(r.Refresh.Query), tables, functions, new QueryScope(r.At, To: r.At));
                        var written = Project(result, baselineSchema, r.At).ToList();
                        baseline.AddRange(written);
                        _engine.Append(HistoryTables.SentinelBaseline, baselineSchema, written);
                        tables[HistoryTables.SentinelBaseline] = new DataTable(HistoryTables.SentinelBaseline, baselineSchema, [.. baseline]);
                        baselineSlices = new TimeSlices(tables[HistoryTables.SentinelBaseline], "TimeGenerated");
                        break;
                    }
                default:
                    {
                        // The detections of one clock time read the same tables and write nothing another reads (summary
                        // rules and refreshes run before them), so they run side by side; their results and alerts are
                        // taken in job order, as one after the other would give them.
                        var batch = new List<DetectionJob>();
                        while (next < ordered.Count && ordered[next] is DetectionJob d && d.At == job.At)
                        {
                            batch.Add(d);
                            next++;
                        }
                        var outputs = new DataTable[batch.Count];
                        var failures = new Exception?[batch.Count];
                        Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism }, i =>
                        {
                            try
                            {
                                outputs[i] = Detect(batch[i], tables, sliced, hourlySlices, baselineSlices, functions);
                            }
                            catch (Exception e) when (e is not OutOfMemoryException)
                            {
                                failures[i] = e;
                            }
                        });
                        if (failures.FirstOrDefault(f => f is not null) is { } failure)
                        {
                            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
                        }
                        for (var i = 0; i < batch.Count; i++)
                        {
                            var d = batch[i];
                            if ((parity ? d.ParityFor : d.AlertsFor) is { } scheduled)
                            {
                                var run = new RunResult(d.Rule.Analyzed.Rule.Name, Target.Sentinel, scheduled, d.At, outputs[i]);
                                if (results is not null)
                                {
                                    results(run);
                                }
                                else
                                {
                                    runs.Add(run);
                                }
                            }
                            if (d.AlertsFor is not null)
                            {
                                alerts.AddRange(Alerts(d.Rule, outputs[i], d.At));
                            }
                        }
                        // What the workspace tables show afterwards, as when the detections ran one after the other.
                        var (from, to) = SourceWindow(batch[^1]);
                        Slice(from, to);
                        break;
                    }
            }
        }
        return (runs, alerts);
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    /// <summary>
    /// What a detection reads of the sources: the query period bounds what Sentinel shows the run; the query's own
    /// ago() filters bound what it reads of the source, so older rows would change nothing but the cost.
    /// </summary>
    private (DateTime From, DateTime To) SourceWindow(DetectionJob d)
    {
        var reach = d.Rule.Sentinel.Plan.SourceReach < d.Rule.Sentinel.Rule.QueryPeriod ? d.Rule.Sentinel.Plan.SourceReach : d.Rule.Sentinel.Rule.QueryPeriod;
        return (d.At - reach, Min(d.At, d.At - _options.IngestionDelay) + TimeSpan.FromTicks(1));
    }

    /// <summary>One detection's query over its own view of the workspace (so detections of one clock time can run at once).</summary>
    private DataTable Detect(DetectionJob d, Dictionary<string, DataTable> tables, List<TimeSlices> sliced, TimeSlices? hourlySlices, TimeSlices? baselineSlices, IReadOnlyList<KqlFunction> functions)
    {
        var runTables = new Dictionary<string, DataTable>(tables, StringComparer.Ordinal);
        var (from, to) = SourceWindow(d);
        foreach (var t in sliced)
        {
            var slice = t.Slice(from, to);
            runTables[slice.Name] = slice;
        }
        // History tables too are shown to the run over its query period only; a slice of a table the engine has
        // converted costs an index, not a conversion.
        var period = (d.At - d.Rule.Sentinel.Rule.QueryPeriod, d.At + TimeSpan.FromTicks(1));
        if (hourlySlices is not null)
        {
            runTables[HistoryTables.SentinelHourly] = hourlySlices.Slice(period.Item1, period.Item2);
        }
        if (baselineSlices is not null)
        {
            runTables[HistoryTables.SentinelBaseline] = baselineSlices.Slice(period.Item1, period.Item2);
        }
        // A remote engine is shown the query period, the window Sentinel gives the rule, up to what is visible.
        return _engine.Execute(d.Rule.Sentinel.Rule.Query, runTables, functions, new QueryScope(d.At, period.Item1, to - TimeSpan.FromTicks(1)));
    }

    /// <summary>A result's rows in a history table's column order; the refresh's rows get the time it wrote them.</summary>
    private static IEnumerable<object?[]> Project(DataTable result, IReadOnlyList<ColumnSchema> schema, DateTime? writtenAt)
    {
        var indices = schema.Select(c => result.IndexOf(c.Name)).ToArray();
        foreach (var row in result.Rows)
        {
            var projected = new object?[schema.Count];
            for (var i = 0; i < schema.Count; i++)
            {
                projected[i] = schema[i].Name == "TimeGenerated" && writtenAt is { } at ? at
                    : indices[i] >= 0 ? row[indices[i]]
                    : schema[i].Type == "string" ? "" : null;
            }
            yield return projected;
        }
    }

    /// <summary>The alerts a run raises: a trigger over the row count, then one alert a result row, at most the cap.</summary>
    private IEnumerable<Alert> Alerts(CompiledRule rule, DataTable result, DateTime at)
    {
        var sentinel = rule.Sentinel.Rule;
        var count = result.Rows.Count;
        var fires = sentinel.TriggerOperator switch
        {
            "lt" => count < sentinel.TriggerThreshold,
            "eq" => count == sentinel.TriggerThreshold,
            "ne" => count != sentinel.TriggerThreshold,
            _ => count > sentinel.TriggerThreshold,
        };
        if (!fires)
        {
            return [];
        }
        var analyzed = rule.Analyzed;
        var keyColumn = analyzed.Entities.TryGetValue("key", out var key) ? result.IndexOf(key.KqlName) : result.IndexOf("KeyId");
        var first = result.IndexOf("FirstSeen");
        var title = result.IndexOf("AlertTitle");
        var summary = result.IndexOf("AlertSummary");
        var severity = analyzed.Rule.Severity == Severity.Critical ? "high" : analyzed.Rule.Severity.ToString().ToLowerInvariant();
        var tags = analyzed.Rule.Tags.Select(t => t.AlertForm).ToImmutableArray();
        return result.Rows.Take(_options.SentinelMaxAlertsPerRun).Select(row => new Alert(
            analyzed.Rule.Name, analyzed.Rule.Id, Target.Sentinel, at,
            keyColumn >= 0 ? row[keyColumn] as string : null,
            severity,
            title >= 0 ? row[title] as string ?? "" : analyzed.Rule.Title,
            summary >= 0 ? row[summary] as string ?? "" : "",
            Evidence.Of(result, row),
            first >= 0 ? row[first] as DateTime? : null,
            tags));
    }
}

/// <summary>A result row as the alert's evidence: column to value, dates ISO 8601.</summary>
public static class Evidence
{
    public static JsonObject Of(DataTable table, object?[] row)
    {
        var evidence = new JsonObject();
        for (var i = 0; i < table.Columns.Count; i++)
        {
            evidence[table.Columns[i].Name] = Node(row[i]);
        }
        return evidence;
    }

    private static JsonNode? Node(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        DateTime t => JsonValue.Create(Alert.Iso(t)),
        TimeSpan t => JsonValue.Create(t.ToString("c", System.Globalization.CultureInfo.InvariantCulture)),
        JsonNode n => n.DeepClone(),
        ImmutableArray<object?> multi => new JsonArray([.. multi.Select(Node)]),
        _ => JsonValue.Create(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
    };
}
