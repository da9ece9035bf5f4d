using System.Collections.Immutable;
using System.Globalization;
using KeyAbuseContent.Build;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Engines;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets;
using KeyAbuseContent.Targets.Esql;

namespace KeyAbuseContent.Harness.Running;

/// <summary>
/// Plays Elastic Security over a dataset: the activity data stream and the inventory lookup index, the
/// lookup indices a rule's transforms keep (computed by the ES|QL equivalents of those transforms), and every
/// ES|QL rule on its schedule over its <c>from</c>/<c>interval</c> window as a range on <c>@timestamp</c>,
/// with <c>max_signals</c>, re-alerts in the look-back overlap, and per-field alert suppression.
/// </summary>
public sealed class ElasticRunner
{
    /// <summary>How far behind real time a continuous transform's checkpoint is (its sync delay).</summary>
    public static readonly TimeSpan TransformDelay = TimeSpan.FromSeconds(60);

    private readonly EsqlEngine _engine = new() { MaxLimit = int.MaxValue };
    private readonly RunOptions _options;

    private readonly IEsqlQueryEngine _queries;

    /// <summary>A runner whose rule queries run on <see cref="RunOptions.EsqlEngine"/>, or the embedded executor; the transforms' history is always computed here.</summary>
    public ElasticRunner(RunOptions options)
    {
        _options = options;
        _queries = options.EsqlEngine ?? new EmbeddedEsqlEngine(_engine);
    }

    /// <summary>The raw records the ingest pipelines rejected in the last run (none when the pipelines are right).</summary>
    public ImmutableArray<IngestProblem> IngestProblems { get; private set; } = [];

    /// <summary>
    /// Runs every rule over the dataset; returns the raw run results and the alerts raised. With
    /// <paramref name="results"/>, each result goes there as it is made and the returned list is empty.
    /// </summary>
    public (IReadOnlyList<RunResult> Runs, IReadOnlyList<Alert> Alerts) Run(IReadOnlyList<CompiledRule> rules, Dataset dataset, Action<RunResult>? results = null)
    {
        var runs = new List<RunResult>();
        var alerts = new List<Alert>();
        if (dataset.IsEmpty)
        {
            return (runs, alerts);
        }
        var activityTable = TargetTables.ElasticActivity(dataset);
        var logsTable = TargetTables.ElasticLogs(dataset);
        var whole = new Dictionary<string, DataTable>(StringComparer.Ordinal) { [activityTable.Name] = activityTable, [logsTable.Name] = logsTable };
        // The data streams the pack's ingest pipelines write vendor logs to.
        var (rawIndices, ingestProblems) = RawTables.Elastic(dataset);
        IngestProblems = ingestProblems;
        foreach (var (name, table) in rawIndices)
        {
            whole[name] = table;
        }
        _queries.Load(dataset, whole);
        // The inventory index as of each day's sync, built once a day (rules run side by side, so made under a lock).
        var inventoryDays = new Dictionary<DateTime, DataTable>();
        var inventoryLock = new Lock();
        DataTable inventory(DateTime day)
        {
            lock (inventoryLock)
            {
                return inventoryDays.TryGetValue(day, out var t) ? t : inventoryDays[day] = TargetTables.ElasticInventory(dataset, day);
            }
        }
        // Each rule's runs read the indices and its own lookup indices and write nothing another rule reads, so the
        // rules run side by side; their runs and alerts are taken in rule order, as one after the other gives them.
        var ruleRuns = new List<RunResult>[rules.Count];
        var ruleAlerts = new List<Alert>[rules.Count];
        var failures = new Exception?[rules.Count];
        Parallel.For(0, rules.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism }, i =>
        {
            try
            {
                (ruleRuns[i], ruleAlerts[i]) = RunRule(rules[i], dataset, whole, inventory, results);
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
        for (var i = 0; i < rules.Count; i++)
        {
            runs.AddRange(ruleRuns[i]);
            alerts.AddRange(ruleAlerts[i]);
        }
        return (runs, alerts);
    }

    /// <summary>One rule's runs over the dataset, with its own transforms' lookup indices.</summary>
    private (List<RunResult> Runs, List<Alert> Alerts) RunRule(CompiledRule rule, Dataset dataset, Dictionary<string, DataTable> whole, Func<DateTime, DataTable> inventory, Action<RunResult>? results)
    {
        var runs = new List<RunResult>();
        var alerts = new List<Alert>();
        var history = History.For(this, rule, whole);
        var doc = rule.Elastic.Rule.Document;
        var every = Span(doc["interval"]!.GetValue<string>());
        var lookback = Span(doc["from"]!.GetValue<string>()["now-".Length..]);
        var maxSignals = doc["max_signals"]!.GetValue<int>();
        var suppression = Suppression.Of(doc);
        var seenDocuments = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in _options.Times(dataset, every))
        {
            var visible = t - _options.IngestionDelay;
            // The whole index every run, the same instance: the engine converts it once and answers the run's
            // window from its cached time order.
            var indices = new Dictionary<string, DataTable>(whole, StringComparer.Ordinal)
            {
                [Sources.Inventory.EsqlIndex] = inventory(RunSchedule.Floor(t, TimeSpan.FromDays(1))),
            };
            foreach (var (name, table) in history.At(t))
            {
                indices[name] = table;
            }
            // Kibana filters @timestamp from now-<from> to now, both ends included.
            var result = _queries.Execute(rule.Elastic.Query.Text, indices, new QueryScope(t, t - lookback, visible < t ? visible : t));
            var run = new RunResult(rule.Analyzed.Rule.Name, Target.Elastic, t, t, result);
            if (results is not null)
            {
                results(run);
            }
            else
            {
                runs.Add(run);
            }
            alerts.AddRange(Alerts(rule, result, t, maxSignals, suppression, seenDocuments));
        }
        return (runs, alerts);
    }

    /// <summary>A Kibana schedule or date-math span: 5m, 24h, 14d.</summary>
    public static TimeSpan Span(string text)
    {
        var n = long.Parse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture);
        return text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            _ => TimeSpan.FromDays(n),
        };
    }

    /// <summary>Kibana's alert suppression of a rule: fields and duration, or none.</summary>
    private sealed record Suppression(ImmutableArray<string> Fields, TimeSpan Duration)
    {
        public static Suppression? Of(System.Text.Json.Nodes.JsonObject doc)
        {
            if (doc["alert_suppression"] is not System.Text.Json.Nodes.JsonObject s)
            {
                return null;
            }
            var duration = s["duration"]!;
            var value = duration["value"]!.GetValue<int>();
            var unit = duration["unit"]!.GetValue<string>();
            return new Suppression([.. s["group_by"]!.AsArray().Select(f => f!.GetValue<string>())], Span(value.ToString(CultureInfo.InvariantCulture) + unit));
        }
    }

    private readonly Dictionary<string, Dictionary<string, DateTime>> _suppressedUntil = new(StringComparer.Ordinal);

    private IEnumerable<Alert> Alerts(CompiledRule rule, DataTable result, DateTime at, int maxSignals, Suppression? suppression, HashSet<string> seenDocuments)
    {
        var analyzed = rule.Analyzed;
        var keyColumn = analyzed.Entities.TryGetValue("key", out var key) ? result.IndexOf(key.EsqlName) : result.IndexOf("keyabuse.key.id");
        var first = result.IndexOf("keyabuse.first_seen");
        var title = result.IndexOf("keyabuse.alert.title");
        var summary = result.IndexOf("keyabuse.alert.summary");
        var id = result.IndexOf("_id");
        var tags = analyzed.Rule.Tags.Select(t => t.AlertForm).ToImmutableArray();
        var severity = analyzed.Rule.Severity == Severity.Informational ? "low" : analyzed.Rule.Severity.ToString().ToLowerInvariant();
        if (!_suppressedUntil.TryGetValue(analyzed.Rule.Name, out var windows))
        {
            _suppressedUntil[analyzed.Rule.Name] = windows = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        }
        var made = 0;
        foreach (var row in result.Rows)
        {
            if (made >= maxSignals)
            {
                yield break;
            }
            if (!rule.Elastic.Plan.Aggregates)
            {
                // A non-aggregating rule alerts on a source document once: its _id, index and version.
                var document = string.Join("|", result.Columns.Select((c, i) => c.Name is "_id" or "_index" or "_version" || (id < 0 && c.Name == "keyabuse.key.id") ? Convert.ToString(row[i], CultureInfo.InvariantCulture) : null).Where(v => v is not null));
                if (!seenDocuments.Add(document + "|" + Convert.ToString(id < 0 ? at.Date : null, CultureInfo.InvariantCulture)))
                {
                    continue;
                }
            }
            if (suppression is not null)
            {
                var group = string.Join("|", suppression.Fields.Select(f => result.IndexOf(f) is var i and >= 0 ? Convert.ToString(row[i], CultureInfo.InvariantCulture) : ""));
                if (windows.TryGetValue(group, out var until) && at < until)
                {
                    continue;
                }
                windows[group] = at + suppression.Duration;
            }
            made++;
            yield return new Alert(
                analyzed.Rule.Name, analyzed.Rule.Id, Target.Elastic, at,
                keyColumn >= 0 ? row[keyColumn] as string : null,
                severity,
                title >= 0 ? row[title] as string ?? "" : analyzed.Rule.Title,
                summary >= 0 ? row[summary] as string ?? "" : "",
                Evidence.Of(result, row),
                first >= 0 ? row[first] as DateTime? : null,
                tags);
        }
    }

    /// <summary>
    /// The lookup indices a rule's transforms keep, as of a run: baselines recomputed once a day from the
    /// hourly peaks; known values and entities folded in as events pass the transforms' checkpoint.
    /// </summary>
    private sealed class History
    {
        private readonly string _rule;
        private readonly TimeSpan _retention;
        private readonly DataTable? _hourly;
        private readonly ImmutableArray<EsqlQuery> _slots;
        private readonly ElasticRunner _runner;
        private DateTime _baselineDay = DateTime.MinValue;
        private DataTable? _baseline;
        private readonly (DateTime Time, string Entity, string Key)[]? _keyed;
        private int _folded;
        private readonly Dictionary<string, (DateTime First, DateTime Last)> _values = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (DateTime First, DateTime Last)> _entities = new(StringComparer.Ordinal);

        private History(ElasticRunner runner, string rule, TimeSpan retention, DataTable? hourly, ImmutableArray<EsqlQuery> slots, (DateTime, string, string)[]? keyed)
        {
            _runner = runner;
            _rule = rule;
            _retention = retention;
            _hourly = hourly;
            _slots = slots;
            _keyed = keyed;
        }

        public static History For(ElasticRunner runner, CompiledRule rule, IReadOnlyDictionary<string, DataTable> whole)
        {
            var queries = EsqlRuleCompiler.HistoryQueries(rule.Analyzed);
            var name = rule.Analyzed.Rule.Name;
            DataTable? hourly = null;
            if (queries.HourlyPeaks is { } peaks)
            {
                var table = runner._engine.Execute(EsqlRenderer.Render(peaks).Text, whole, DateTime.UnixEpoch).Table;
                hourly = new DataTable(queries.HourlyIndex!, table.Columns, table.Rows);
            }
            // Null when the rule keeps no known values; empty when none of the events ever matched (the transform's
            // index then exists and is empty, and the rule's lookup join must still find it).
            (DateTime, string, string)[]? keyed = null;
            if (queries.KeyedValues is { } values)
            {
                var table = runner._engine.Execute(EsqlRenderer.Render(values).Text, whole, DateTime.UnixEpoch).Table;
                int time = table.IndexOf("@timestamp"), entity = table.IndexOf("keyabuse.entity_key"), key = table.IndexOf("keyabuse.lookup_key");
                // One string per distinct key, not two a matching event: the history of a month of events is held
                // for the whole pass.
                var pool = new Dictionary<string, string>(StringComparer.Ordinal);
                string Pooled(object? value)
                {
                    var text = (string)value!;
                    return pool.TryGetValue(text, out var kept) ? kept : pool[text] = text;
                }
                keyed = [.. table.Rows.Select(r => ((DateTime)r[time]!, Pooled(r[entity]), Pooled(r[key]))).OrderBy(k => k.Item1)];
            }
            var retention = rule.Analyzed.Detection switch
            {
                BoundNewValueDetection n => n.Syntax.History,
                BoundProfileDetection { Syntax.Learned: { } learned } => learned,
                BoundBaselineDetection b => b.Syntax.History.Length,
                _ => TimeSpan.Zero,
            };
            return new History(runner, name, retention, hourly, queries.SlotBaselines, keyed);
        }

        public IEnumerable<(string Index, DataTable Table)> At(DateTime t)
        {
            if (_hourly is not null)
            {
                var day = RunSchedule.Floor(t, TimeSpan.FromDays(1));
                if (day != _baselineDay)
                {
                    _baselineDay = day;
                    _baseline = Baseline(day);
                }
                yield return (HistoryTables.ElasticBaseline(_rule), _baseline!);
            }
            if (_keyed is not null)
            {
                var checkpoint = t - TransformDelay;
                while (_folded < _keyed.Length && _keyed[_folded].Time <= checkpoint)
                {
                    var (time, entity, key) = _keyed[_folded++];
                    _values[key] = _values.TryGetValue(key, out var v) ? (v.First, time) : (time, time);
                    _entities[entity] = _entities.TryGetValue(entity, out var e) ? (e.First, time) : (time, time);
                }
                var horizon = t - _retention;
                // Between folds, retention can only drop sightings: an index holding as many as the last one is that
                // same index, and the same table instance lets the engine reuse what it built from it.
                var values = _values.Count(kv => kv.Value.Last >= horizon);
                var entities = _entities.Count(kv => kv.Value.Last >= horizon);
                if (_sightings is not { } last || last.Folded != _folded || last.Values.Rows.Count != values || last.Entities.Rows.Count != entities)
                {
                    _sightings = last = (_folded,
                        Sightings(HistoryTables.ElasticKnownValues(_rule), "keyabuse.lookup_key", "keyabuse.history", _values, horizon),
                        Sightings(HistoryTables.ElasticKnownEntities(_rule), "keyabuse.entity_key", "keyabuse.entity_history", _entities, horizon));
                }
                yield return (HistoryTables.ElasticKnownValues(_rule), last.Values);
                yield return (HistoryTables.ElasticKnownEntities(_rule), last.Entities);
            }
        }

        private (int Folded, DataTable Values, DataTable Entities)? _sightings;

        private DataTable Baseline(DateTime day)
        {
            var indices = new Dictionary<string, DataTable>(StringComparer.Ordinal) { [_hourly!.Name] = _hourly };
            var rows = new List<object?[]>();
            IReadOnlyList<ColumnSchema>? columns = null;
            foreach (var query in _slots)
            {
                var table = _runner._engine.Execute(EsqlRenderer.Render(query).Text, indices, day).Table;
                columns ??= table.Columns;
                rows.AddRange(table.Rows);
            }
            return new DataTable(HistoryTables.ElasticBaseline(_rule), columns ?? [new("keyabuse.lookup_key", "keyword")], rows);
        }

        /// <summary>A known-values index as the transform keeps it: first and last sighting per key, minus what retention removed.</summary>
        private static DataTable Sightings(string index, string keyField, string prefix, Dictionary<string, (DateTime First, DateTime Last)> seen, DateTime horizon) =>
            new(index,
                [new(keyField, "keyword"), new(prefix + ".first_seen", "date"), new(prefix + ".last_seen", "date")],
                [.. seen.Where(kv => kv.Value.Last >= horizon).Select(kv => new object?[] { kv.Key, kv.Value.First, kv.Value.Last })]);
    }
}
