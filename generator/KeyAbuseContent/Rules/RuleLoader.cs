using System.Collections.Immutable;
using System.Globalization;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Yaml;

namespace KeyAbuseContent.Rules;

/// <summary>What loading a rules folder gives: the rules that loaded, the threat model, and every problem found.</summary>
public sealed record RuleLibrary(ImmutableArray<Rule> Rules, ThreatModel ThreatModel, Vocabulary Vocabulary, IReadOnlyList<Diagnostic> Diagnostics, string RulesDir);

/// <summary>
/// Reads a rules folder: the schema, the bundled reference lists, the threat model and every rule file.
/// A broken rule is reported with file, line and column and the other rules still load.
/// </summary>
public sealed class RuleLoader
{
    private readonly RuleSchema _schema;
    private readonly Vocabulary _vocabulary;
    private readonly ThreatModel _threats;

    private RuleLoader(RuleSchema schema, Vocabulary vocabulary, ThreatModel threats)
    {
        _schema = schema;
        _vocabulary = vocabulary;
        _threats = threats;
    }

    /// <summary>The rule files of a folder: every <c>*.yaml</c> below it but the threat model, the schema and the reference data.</summary>
    public static IEnumerable<string> RuleFiles(string rulesDir) =>
        Directory.EnumerateFiles(rulesDir, "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(rulesDir, "*.yml", SearchOption.AllDirectories))
            .Where(f =>
            {
                var relative = Path.GetRelativePath(rulesDir, f).Replace('\\', '/');
                return relative != "threat-model.yaml" && !relative.StartsWith("schema/", StringComparison.Ordinal) && !relative.StartsWith("reference/", StringComparison.Ordinal);
            })
            .Order(StringComparer.Ordinal);

    public static RuleLibrary Load(string rulesDir)
    {
        var diagnostics = new DiagnosticBag();
        var schema = RuleSchema.Parse(File.ReadAllText(Path.Combine(rulesDir, "schema", "rule.schema.json")));
        var vocabulary = Vocabulary.Load(Path.Combine(rulesDir, "reference"));
        var threats = ThreatModel.Load(Path.Combine(rulesDir, "threat-model.yaml"), diagnostics);
        var loader = new RuleLoader(schema, vocabulary, threats);
        var rules = ImmutableArray.CreateBuilder<Rule>();
        foreach (var file in RuleFiles(rulesDir))
        {
            var rule = loader.LoadFile(rulesDir, file, diagnostics);
            if (rule is not null)
            {
                rules.Add(rule);
            }
        }
        CheckUnique(rules, diagnostics);
        return new RuleLibrary(rules.ToImmutable(), threats, vocabulary, diagnostics.Items, rulesDir);
    }

    private static void CheckUnique(IEnumerable<Rule> rules, DiagnosticBag diagnostics)
    {
        foreach (var group in rules.GroupBy(r => r.Id).Where(g => g.Count() > 1))
        {
            var first = group.First();
            foreach (var dup in group.Skip(1))
            {
                diagnostics.Error(dup.At("id"), dup.Name, DiagnosticCodes.DuplicateId, $"id {dup.Id} is already used by {first.Name} ({first.At("id")})");
            }
        }
        foreach (var group in rules.GroupBy(r => r.Name).Where(g => g.Count() > 1))
        {
            var first = group.First();
            foreach (var dup in group.Skip(1))
            {
                diagnostics.Error(dup.At("name"), dup.Name, DiagnosticCodes.DuplicateName, $"name '{dup.Name}' is already used by {first.At("name")}");
            }
        }
    }

    /// <summary>Loads one rule file; null (with diagnostics) when it is not a valid rule.</summary>
    public Rule? LoadFile(string rulesDir, string path, DiagnosticBag diagnostics)
    {
        var file = PathDisplay.Of(path);
        var root = YamlDocumentReader.Read(file, File.ReadAllText(path), diagnostics);
        if (root is null)
        {
            return null;
        }
        var name = (root as YamlMapping)?["name"] is YamlScalar n ? n.Text : null;
        if (!_schema.Validate(root, file, name, diagnostics))
        {
            return null;
        }
        var map = (YamlMapping)root;
        var before = diagnostics.Items.Count;
        var rule = new RuleReader(file, map, name!, _vocabulary, _threats, diagnostics).Read();
        var stem = Path.GetFileNameWithoutExtension(path);
        if (stem != rule.Name)
        {
            diagnostics.Error(rule.At("name"), rule.Name, DiagnosticCodes.FileName, $"the file is named '{stem}', the rule '{rule.Name}'; name the file after the rule");
        }
        var domain = Path.GetRelativePath(rulesDir, Path.GetDirectoryName(path)!);
        if (domain == ".")
        {
            diagnostics.Error(new SourcePosition(file, 1, 1), rule.Name, DiagnosticCodes.FileName, "a rule lives in a domain folder: detections/<domain>/<name>.yaml");
        }
        return diagnostics.Items.Count == before ? rule : null;
    }

    /// <summary>Reads a schema-valid mapping into a <see cref="Rule"/>, reporting what the schema cannot check.</summary>
    private sealed class RuleReader(string file, YamlMapping map, string name, Vocabulary vocabulary, ThreatModel threats, DiagnosticBag diagnostics)
    {
        private readonly Dictionary<string, SourcePosition> _positions = new(StringComparer.Ordinal) { [""] = map.Start };

        public Rule Read()
        {
            Record("", map);
            var rule = new Rule
            {
                Id = Guid.Parse(Str(map, "id")),
                Name = name,
                Version = Version.Parse(Str(map, "version")),
                Title = Str(map, "title"),
                Description = Str(map, "description"),
                Status = Enum.Parse<RuleStatus>(Str(map, "status"), ignoreCase: true),
                Severity = Enum.Parse<Severity>(Str(map, "severity"), ignoreCase: true),
                Author = Str(map, "author"),
                Created = Date(map, "created"),
                Modified = Date(map, "modified"),
                References = Strings(map, "references"),
                Tags = Tags(),
                Threats = Threats(),
                Source = SourceOf(Str(map, "source")),
                Schedule = new Schedule(Duration((YamlMapping)map["schedule"]!, "every"), Duration((YamlMapping)map["schedule"]!, "lookback")),
                Detect = Detect((YamlMapping)map["detect"]!),
                Entities = ((YamlMapping)map["entities"]!).Entries.ToImmutableDictionary(e => e.Key.Text, e => ((YamlScalar)e.Value).Text),
                Output = Output((YamlMapping)map["output"]!),
                FalsePositives = Strings(map, "false_positives"),
                Note = (map["note"] as YamlScalar)?.Text,
                Tests = Tests(),
                File = file,
                Positions = _positions.ToImmutableDictionary(),
            };
            if (rule.Modified < rule.Created)
            {
                diagnostics.Error(map.Entry("modified")!.Value.Start, name, DiagnosticCodes.BadDate, $"modified ({rule.Modified:yyyy-MM-dd}) is before created ({rule.Created:yyyy-MM-dd})");
            }
            if (rule.Schedule.Lookback < rule.Schedule.Every)
            {
                diagnostics.Error(_positions["schedule"], name, DiagnosticCodes.Schema, $"lookback ({rule.Schedule.Lookback}) is shorter than the interval ({rule.Schedule.Every}): events between runs would never be read");
            }
            return rule;
        }

        /// <summary>Keeps the position of every node, by path, for diagnostics found later.</summary>
        private void Record(string path, YamlNode node)
        {
            _positions[path] = node.Start;
            if (node is YamlMapping m)
            {
                foreach (var e in m.Entries)
                {
                    Record(path.Length == 0 ? e.Key.Text : path + "." + e.Key.Text, e.Value);
                }
            }
            else if (node is YamlSequence s)
            {
                for (var i = 0; i < s.Items.Length; i++)
                {
                    Record($"{path}[{i}]", s.Items[i]);
                }
            }
        }

        private static string Str(YamlMapping m, string key) => ((YamlScalar)m[key]!).Text;

        private static string? OptStr(YamlMapping m, string key) => (m[key] as YamlScalar)?.Text;

        private static ImmutableArray<string> Strings(YamlMapping m, string key) =>
            m[key] is YamlSequence s ? [.. s.Items.Cast<YamlScalar>().Select(x => x.Text)] : [];

        private DateOnly Date(YamlMapping m, string key)
        {
            var node = (YamlScalar)m[key]!;
            if (DateOnly.TryParseExact(node.Text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }
            diagnostics.Error(node.Start, name, DiagnosticCodes.BadDate, $"'{node.Text}' is not a calendar date");
            return DateOnly.MinValue;
        }

        public static TimeSpan ParseDuration(string text)
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

        private static TimeSpan Duration(YamlMapping m, string key) => ParseDuration(Str(m, key));

        private static TimeSpan? OptDuration(YamlMapping m, string key) => m[key] is YamlScalar s ? ParseDuration(s.Text) : null;

        private ImmutableArray<RuleTag> Tags()
        {
            var result = ImmutableArray.CreateBuilder<RuleTag>();
            var items = ((YamlSequence)map["tags"]!).Items;
            foreach (var item in items.Cast<YamlScalar>())
            {
                var tag = vocabulary.Resolve(item.Text);
                if (tag is null)
                {
                    diagnostics.Error(item.Start, name, DiagnosticCodes.UnknownTag, $"tag '{item.Text}' is not in the bundled ATT&CK, ATLAS or OWASP LLM 2025 lists");
                    continue;
                }
                if (result.Any(t => t.Id == tag.Id))
                {
                    diagnostics.Error(item.Start, name, DiagnosticCodes.UnknownTag, $"tag '{item.Text}' is listed twice");
                    continue;
                }
                result.Add(tag);
            }
            return result.ToImmutable();
        }

        private ImmutableArray<string> Threats()
        {
            var result = ImmutableArray.CreateBuilder<string>();
            foreach (var item in ((YamlSequence)map["threats"]!).Items.Cast<YamlScalar>())
            {
                if (!threats.Contains(item.Text))
                {
                    diagnostics.Error(item.Start, name, DiagnosticCodes.UnknownThreat, $"threat '{item.Text}' is not in detections/threat-model.yaml ({string.Join(", ", threats.Entries.Select(e => e.Id))})");
                    continue;
                }
                result.Add(item.Text);
            }
            return result.ToImmutable();
        }

        private static RuleSource SourceOf(string text) => text switch
        {
            "activity" => RuleSource.Activity,
            "control_plane" => RuleSource.ControlPlane,
            "audit" => RuleSource.Audit,
            "logs" => RuleSource.Logs,
            _ => RuleSource.Inventory,
        };

        private RuleExpression? Expression(YamlMapping m, string key, string path)
        {
            if (m[key] is not YamlScalar node)
            {
                return null;
            }
            var (syntax, error) = ExpressionParser.Parse(node.Text);
            if (error is not null)
            {
                diagnostics.Error(node.PositionOf(error.Span.Start), name, DiagnosticCodes.Expression, $"{path}: {error.Message}");
                return null;
            }
            return new RuleExpression(node.Text, syntax!, node.PositionOf);
        }

        private ImmutableArray<NamedAggregate> Aggregates(YamlMapping detect)
        {
            if (detect["aggregate"] is not YamlMapping aggregates)
            {
                return [];
            }
            var result = ImmutableArray.CreateBuilder<NamedAggregate>();
            foreach (var e in aggregates.Entries)
            {
                var expr = Expression(aggregates, e.Key.Text, "detect.aggregate." + e.Key.Text);
                if (expr is not null)
                {
                    result.Add(new NamedAggregate(e.Key.Text, expr));
                }
            }
            return result.ToImmutable();
        }

        private Detection Detect(YamlMapping d)
        {
            var kind = Str(d, "kind");
            var where = Expression(d, "where", "detect.where");
            var by = Strings(d, "by");
            switch (kind)
            {
                case "threshold":
                    return new ThresholdDetection(where, by, Duration(d, "window"), Aggregates(d), Expression(d, "condition", "detect.condition") ?? Placeholder())
                    {
                        Inventory = Strings(d, "inventory"),
                    };
                case "baseline":
                    var metricMap = (YamlMapping)d["metric"]!;
                    var count = OptStr(metricMap, "count");
                    var sum = OptStr(metricMap, "sum");
                    if ((count is null) == (sum is null))
                    {
                        diagnostics.Error(metricMap.Start, name, DiagnosticCodes.Kind, "a metric either counts events (count: requests) or sums a field (sum: tokens), not both or neither");
                    }
                    var h = (YamlMapping)d["history"]!;
                    var seasonality = Enum.Parse<Seasonality>((OptStr(h, "seasonality") ?? "none").Replace("_", "", StringComparison.Ordinal), ignoreCase: true);
                    var fallback = Enum.Parse<Fallback>((OptStr(h, "fallback") ?? "none").Replace("_", "", StringComparison.Ordinal), ignoreCase: true);
                    var minSamples = h["min_samples"] is YamlScalar ms ? (int)YamlDocumentReader.ParseInt(ms.Text) : 1;
                    var floor = d["floor"] is YamlScalar f ? double.Parse(f.Text, CultureInfo.InvariantCulture) : 0;
                    var neighbours = h["neighbours"] is YamlScalar nb ? (int)YamlDocumentReader.ParseInt(nb.Text) : 0;
                    return new BaselineDetection(where, by, new Metric(count, sum, Duration(metricMap, "per")) { When = Expression(metricMap, "when", "detect.metric.when") },
                        new BaselineHistory(Duration(h, "length"), Enum.Parse<Statistic>(Str(h, "statistic").Replace("_", "", StringComparison.Ordinal), ignoreCase: true), seasonality, minSamples, fallback) { Neighbours = neighbours },
                        floor, Expression(d, "condition", "detect.condition") ?? Placeholder());
                case "new_value":
                    return new NewValueDetection(where, by, Str(d, "field"), Duration((YamlMapping)d["history"]!, "length"), OptDuration(d, "window"),
                        Aggregates(d), Expression(d, "condition", "detect.condition"))
                    {
                        NewWhere = Expression(d, "new_where", "detect.new_where"),
                    };
                case "profile":
                    var profile = (YamlMapping)d["profile"]!;
                    var learned = profile["learned"] is YamlMapping l ? Duration(l, "length") : (TimeSpan?)null;
                    return new ProfileDetection(where, by, Str(d, "field"), Str(profile, "declared"), learned, Aggregates(d), Expression(d, "condition", "detect.condition"));
                case "sequence":
                    var steps = ImmutableArray.CreateBuilder<SequenceStep>();
                    var stepNodes = ((YamlSequence)d["steps"]!).Items.Cast<YamlMapping>().ToList();
                    for (var i = 0; i < stepNodes.Count; i++)
                    {
                        var s = stepNodes[i];
                        var min = s["min"] is YamlScalar sm ? (int)YamlDocumentReader.ParseInt(sm.Text) : 1;
                        steps.Add(new SequenceStep(Str(s, "name"), Expression(s, "where", $"detect.steps[{i}].where") ?? Placeholder(), min));
                    }
                    foreach (var dup in steps.GroupBy(s => s.Name).Where(g => g.Count() > 1))
                    {
                        diagnostics.Error(d.Start, name, DiagnosticCodes.Kind, $"step name '{dup.Key}' is used twice");
                    }
                    return new SequenceDetection(by, Duration(d, "within"), steps.ToImmutable());
                default:
                    return new InventoryDetection(where ?? Placeholder());
            }
        }

        /// <summary>Stands in for an expression that did not parse; its diagnostic is already reported.</summary>
        private static RuleExpression Placeholder() => new("true", new LiteralExpr(new TextSpan(0, 4), LiteralKind.Bool, true), _ => default);

        private static RuleOutput Output(YamlMapping m) =>
            new(Str(m, "title"), Str(m, "summary"), m["title"]!.Start, m["summary"]!.Start);

        private ImmutableArray<RuleTest> Tests()
        {
            var result = ImmutableArray.CreateBuilder<RuleTest>();
            foreach (var t in ((YamlSequence)map["tests"]!).Items.Cast<YamlMapping>())
            {
                var expectations = ImmutableArray.CreateBuilder<Expectation>();
                foreach (var e in ((YamlSequence)t["expect"]!).Items.Cast<YamlMapping>())
                {
                    var from = DateTimeOffset.Parse(Str(e, "from"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                    var to = DateTimeOffset.Parse(Str(e, "to"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                    var min = e["min"] is YamlScalar mn ? (int)YamlDocumentReader.ParseInt(mn.Text) : 1;
                    int? max = e["max"] is YamlScalar mx ? (int)YamlDocumentReader.ParseInt(mx.Text) : null;
                    if (to <= from)
                    {
                        diagnostics.Error(e.Start, name, DiagnosticCodes.Schema, "an expectation's 'to' must be after its 'from'");
                    }
                    if (max < min)
                    {
                        diagnostics.Error(e.Start, name, DiagnosticCodes.Schema, "an expectation's 'max' is below its 'min'");
                    }
                    expectations.Add(new Expectation(OptStr(e, "key_id") ?? "", from, to, min, max) { Entity = OptStr(e, "entity") });
                }
                var targets = Strings(t, "targets");
                result.Add(new RuleTest(Str(t, "dataset"), targets.IsEmpty ? ["sentinel", "elastic"] : targets, expectations.ToImmutable(), t.Start));
            }
            return result.ToImmutable();
        }
    }
}
