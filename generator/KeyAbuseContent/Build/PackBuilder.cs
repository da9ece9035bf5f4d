using System.Collections.Immutable;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Targets.Sentinel;
using KeyAbuseContent.Targets.Sigma;
using KeyAbuseContent.Validation;
using KeyAbuseContent.Validation.Kql;

namespace KeyAbuseContent.Build;

/// <summary>One rule compiled for every target.</summary>
public sealed record CompiledRule(AnalyzedRule Analyzed, SentinelArtifact Sentinel, ElasticArtifact Elastic, SigmaArtifact Sigma);

/// <summary>The outcome of compiling a library: every rule that compiled, and every problem found.</summary>
public sealed record PackBuild(RuleLibrary Library, ImmutableArray<CompiledRule> Rules, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool Succeeded => !Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}

/// <summary>Progress of a long step, for the command line's display.</summary>
public interface IBuildProgress
{
    void Report(string description);
}

/// <summary>
/// Loads, analyzes, compiles and validates a rule library: schema, ids, tags, fields, every target,
/// and every generated artifact checked (KQL by Microsoft's language service, Sentinel limits,
/// Kibana's rule schema, Sigma's schemas). Problems are collected, never thrown.
/// </summary>
public sealed class PackBuilder
{
    private readonly string _repoRoot;
    private readonly string _rulesDir;
    private readonly string _testDataDir;
    private readonly IBuildProgress? _progress;
    private readonly string _releasesDir;

    /// <param name="repoRoot">Where tools/kql-check is.</param>
    /// <param name="rulesDir">The rule library.</param>
    /// <param name="testDataDir">Where the datasets rules test against are; test-data/ of the repository by default.</param>
    /// <param name="progress">Receives the build's steps.</param>
    /// <param name="releasesDir">The recorded releases the version check reads; releases/ beside the rules folder by default.</param>
    public PackBuilder(string repoRoot, string rulesDir, string? testDataDir = null, IBuildProgress? progress = null, string? releasesDir = null)
    {
        _releasesDir = releasesDir ?? DefaultReleasesDir(rulesDir);
        _repoRoot = repoRoot;
        _rulesDir = rulesDir;
        _testDataDir = testDataDir ?? Path.Combine(repoRoot, "test-data");
        _progress = progress;
    }

    /// <summary>Where releases are recorded for a rule library: <c>releases/</c> beside its folder.</summary>
    public static string DefaultReleasesDir(string rulesDir) =>
        Path.Combine(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(rulesDir)))!, "releases");

    public PackBuild Build()
    {
        var diagnostics = new DiagnosticBag();
        _progress?.Report("loading rules");
        var library = RuleLoader.Load(_rulesDir);
        diagnostics.AddRange(library.Diagnostics);

        _progress?.Report("compiling rules");
        var compiled = ImmutableArray.CreateBuilder<CompiledRule>();
        foreach (var rule in library.Rules)
        {
            var analyzed = RuleAnalyzer.Analyze(rule, diagnostics);
            if (analyzed is null)
            {
                continue;
            }
            CheckTests(rule, diagnostics);
            var result = Compile(analyzed, library.Vocabulary, diagnostics);
            if (result is not null)
            {
                compiled.Add(result);
            }
        }

        _progress?.Report("checking Sentinel, Elastic and Sigma artifacts");
        var sigma = SigmaSchemaValidator.Load(Path.Combine(_rulesDir, "reference", "sigma-schema"));
        foreach (var c in compiled)
        {
            var rule = c.Analyzed.Rule;
            foreach (var problem in SentinelRuleLimits.Check(c.Sentinel.Rule))
            {
                diagnostics.Error(rule.At("detect"), rule.Name, DiagnosticCodes.SentinelLimit, "Sentinel: " + problem);
            }
            foreach (var problem in ElasticRuleSchema.Check(c.Elastic.Rule))
            {
                diagnostics.Error(rule.At("detect"), rule.Name, DiagnosticCodes.ElasticSchema, "Elastic: " + problem);
            }
            foreach (var problem in ElasticSetupOrder.Check(c.Elastic.Setup))
            {
                diagnostics.Error(rule.At("detect"), rule.Name, DiagnosticCodes.ElasticSchema, "Elastic setup: " + problem);
            }
            if (c.Sigma.Yaml is { } yaml)
            {
                foreach (var problem in sigma.Check(yaml))
                {
                    diagnostics.Error(rule.At("detect"), rule.Name, DiagnosticCodes.SigmaSchema, "Sigma: " + problem);
                }
            }
        }

        _progress?.Report("checking rule versions against the last release");
        var rules = compiled.ToImmutable();
        if (ReleaseHistory.Latest(ReleaseHistory.Load(_releasesDir, diagnostics)) is { } last)
        {
            ReleaseHistory.CheckVersions(rules, last, diagnostics);
        }

        _progress?.Report("checking KQL with the Kusto language service");
        CheckKql(rules, diagnostics);
        return new PackBuild(library, rules, diagnostics.Items);
    }

    private static CompiledRule? Compile(AnalyzedRule analyzed, Vocabulary vocabulary, DiagnosticBag diagnostics)
    {
        var rule = analyzed.Rule;
        try
        {
            var sentinel = SentinelTarget.Build(analyzed, vocabulary);
            var elastic = ElasticTarget.Build(analyzed, vocabulary);
            var sigma = SigmaTarget.Build(analyzed);
            return new CompiledRule(analyzed, sentinel, elastic, sigma);
        }
        catch (QueryDslException e)
        {
            diagnostics.Error(rule.At("detect.where"), rule.Name, DiagnosticCodes.Untranslatable, "Elastic transform: " + e.Message);
        }
        catch (EsqlVersionException e)
        {
            diagnostics.Error(rule.At("detect"), rule.Name, DiagnosticCodes.Untranslatable, "Elastic: " + e.Message);
        }
        catch (ArgumentException e)
        {
            // A value the renderers refuse to write into a query (a control character, NaN).
            diagnostics.Error(rule.At("detect"), rule.Name, DiagnosticCodes.Untranslatable, e.Message);
        }
        return null;
    }

    private void CheckTests(Rule rule, DiagnosticBag diagnostics)
    {
        var testData = _testDataDir;
        for (var i = 0; i < rule.Tests.Length; i++)
        {
            var test = rule.Tests[i];
            var folder = Path.Combine(testData, test.Dataset);
            if (!Directory.Exists(folder))
            {
                diagnostics.Error(rule.At($"tests[{i}].dataset"), rule.Name, DiagnosticCodes.UnknownDataset, $"tests: dataset '{test.Dataset}' is not a folder under test-data/");
            }
            else if (!File.Exists(Path.Combine(folder, "events.jsonl")) && !File.Exists(Path.Combine(folder, "events.jsonl.gz")) && !Directory.Exists(Path.Combine(folder, "raw")) && !File.Exists(Path.Combine(folder, "inventory.yaml")) && !File.Exists(Path.Combine(folder, "logs.jsonl")))
            {
                diagnostics.Error(rule.At($"tests[{i}].dataset"), rule.Name, DiagnosticCodes.UnknownDataset, $"tests: dataset '{test.Dataset}' holds no events.jsonl[.gz], logs.jsonl, raw/ or inventory.yaml");
            }
            else if (InventoryKeys(Path.Combine(folder, "inventory.yaml")) is { } keys)
            {
                for (var j = 0; j < test.Expect.Length; j++)
                {
                    if (test.Expect[j].KeyId.Length > 0 && !keys.Contains(test.Expect[j].KeyId))
                    {
                        diagnostics.Error(rule.At($"tests[{i}].expect[{j}].key_id"), rule.Name, DiagnosticCodes.UnknownDataset,
                            $"tests: key '{test.Expect[j].KeyId}' is not in the inventory of dataset '{test.Dataset}'");
                    }
                }
            }
        }
        if (rule.Status == RuleStatus.Stable)
        {
            if (!rule.Tests.Any(t => t.Expect.Length > 0))
            {
                diagnostics.Error(rule.At("tests"), rule.Name, DiagnosticCodes.Schema, "a stable rule has a positive test (a dataset with expected alerts)");
            }
            if (!rule.Tests.Any(t => t.Expect.Length == 0))
            {
                diagnostics.Error(rule.At("tests"), rule.Name, DiagnosticCodes.Schema, "a stable rule has a negative test (a dataset that must raise nothing)");
            }
        }
    }

    /// <summary>The key ids a dataset's inventory lists; null when it has none or it does not read.</summary>
    private static HashSet<string>? InventoryKeys(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        var root = Yaml.YamlDocumentReader.Read(PathDisplay.Of(path), File.ReadAllText(path), new DiagnosticBag());
        if (root is not Yaml.YamlMapping { } map || map["keys"] is not Yaml.YamlSequence keys)
        {
            return null;
        }
        return [.. keys.Items.OfType<Yaml.YamlMapping>().Select(k => (k["id"] as Yaml.YamlScalar)?.Text).OfType<string>()];
    }

    /// <summary>The tables and functions KQL queries may use: Sentinel's reference tables, the pack's tables, parsers and watchlist.</summary>
    public KqlDatabaseSchema KqlSchema()
    {
        var tables = SentinelTableSchemas.Load(Path.Combine(_rulesDir, "reference", "sentinel-tables")).ToList();
        tables.AddRange(SentinelParsers.Tables.Select(t => new KqlTableSchema(t.Name, [.. t.Columns.Select(c => new KqlColumn(c.Name, c.Type))])));
        var functions = SentinelParsers.Functions.Select(f => new KqlFunctionSchema(f.Name, "()", "{ " + f.Body + " }")).ToList();
        var watchlistColumns = string.Join(", ", Enumerable.Repeat("SearchKey:string", 1)
            .Concat(SentinelParsers.WatchlistColumns.Union(SentinelParsers.GeoWatchlistColumns).Select(c => KqlRenderer.Name(c) + ":string"))
            .Append("WatchlistItem:dynamic").Append("LastUpdatedTimeUTC:datetime"));
        functions.Add(new KqlFunctionSchema("_GetWatchlist", "(watchlistAlias:string)", $"{{ datatable({watchlistColumns})[] }}"));
        return new KqlDatabaseSchema(tables, functions);
    }

    private void CheckKql(ImmutableArray<CompiledRule> compiled, DiagnosticBag diagnostics)
    {
        var queries = new List<(KqlQueryToCheck Query, Rule? Rule, string What)>();
        foreach (var c in compiled)
        {
            var rule = c.Analyzed.Rule;
            queries.Add((new KqlQueryToCheck(rule.Name + "/detection", c.Sentinel.Rule.Query), rule, "detection query"));
            foreach (var s in c.Sentinel.Plan.SummaryRules)
            {
                queries.Add((new KqlQueryToCheck(rule.Name + "/" + s.Name, KqlRenderer.Render(s.Query)), rule, "summary rule " + s.Name));
            }
            foreach (var r in c.Sentinel.Plan.Refreshes)
            {
                queries.Add((new KqlQueryToCheck(rule.Name + "/" + r.Name, KqlRenderer.Render(r.Query)), rule, "refresh " + r.Name));
            }
        }
        foreach (var f in SentinelParsers.Functions)
        {
            queries.Add((new KqlQueryToCheck("parser/" + f.Name, f.Body), null, "parser " + f.Name));
        }
        KustoLanguageService service;
        try
        {
            service = KustoLanguageService.Locate(_repoRoot);
        }
        catch (KqlCheckUnavailableException e)
        {
            diagnostics.Error(new SourcePosition("tools/kql-check", 0, 0), null, DiagnosticCodes.ToolMissing, "the KQL check cannot run: " + e.Message);
            return;
        }
        IReadOnlyList<KqlCheckFinding> findings;
        try
        {
            findings = service.Check(KqlSchema(), [.. queries.Select(q => q.Query)]);
        }
        catch (KqlCheckFailedException e)
        {
            diagnostics.Error(new SourcePosition("tools/kql-check", 0, 0), null, DiagnosticCodes.ToolMissing, "the KQL check failed: " + e.Message);
            return;
        }
        var byId = queries.ToDictionary(q => q.Query.Id, StringComparer.Ordinal);
        foreach (var finding in findings.Where(f => f.IsError || f.Code == "KS512"))
        {
            var (query, rule, what) = byId[finding.Id];
            var (line, column) = KqlCheckFinding.LineColumn(query.Text, finding.Start);
            var at = rule?.At("detect") ?? new SourcePosition("generator/KeyAbuseContent/Targets/Sentinel/SentinelParsers.cs", 0, 0);
            diagnostics.Error(at, rule?.Name, DiagnosticCodes.KqlCheck, $"Sentinel {what}, line {line} col {column}: {finding.Message} ({finding.Code})");
        }
    }
}
