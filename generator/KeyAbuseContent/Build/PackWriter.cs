using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Targets.Sentinel;
using KeyAbuseContent.Templates;

namespace KeyAbuseContent.Build;

/// <summary>
/// Writes a successful build to a folder: Sentinel rules (YAML and one ARM template), Elastic rules
/// (Kibana import NDJSON), Sigma rules and the build report. Everything is written to a staging folder
/// first and moved into place at the end, so a failure never leaves half a bundle.
/// </summary>
public static class PackWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The files of the bundle, by relative path; the same bytes every time for the same rules.</summary>
    public static SortedDictionary<string, string> Files(PackBuild build)
    {
        if (!build.Succeeded)
        {
            throw new InvalidOperationException("a failed build is never written");
        }
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var rules = build.Rules.OrderBy(r => r.Analyzed.Rule.Name, StringComparer.Ordinal).ToList();
        foreach (var r in rules)
        {
            files[$"sentinel/rules/{r.Analyzed.Rule.Name}.yaml"] = r.Sentinel.Yaml;
            foreach (var s in r.Sentinel.Plan.SummaryRules)
            {
                files[$"sentinel/history/{s.Name}.kql"] = KqlRenderer.Render(s.Query) + "\n";
            }
            foreach (var f in r.Sentinel.Plan.Refreshes)
            {
                files[$"sentinel/history/{f.Name}.kql"] = KqlRenderer.Render(f.Query) + "\n";
            }
            if (r.Sigma.Yaml is { } sigma)
            {
                files[$"sigma/{r.Analyzed.Rule.Name}.yml"] = sigma;
            }
        }
        foreach (var f in SentinelParsers.Functions)
        {
            files[$"sentinel/parsers/{f.Name}.kql"] = f.Body + "\n";
        }
        var csvHeader = string.Join(",", SentinelParsers.InventoryCsvColumns);
        files["sentinel/watchlists/KeyAbuseInventory.csv"] = csvHeader + "\n";
        files[$"sentinel/watchlists/{SentinelParsers.GeoWatchlist}.csv"] = string.Join(",", SentinelParsers.GeoWatchlistColumns) + "\n";
        var arm = SentinelArmTemplate.Build([.. rules.Select(r => r.Sentinel)], csvHeader);
        files["sentinel/azuredeploy.json"] = arm.ToJsonString(Indented) + "\n";
        files["sentinel/azuredeploy.parameters.json"] = new JsonObject
        {
            ["$schema"] = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            ["contentVersion"] = "1.0.0.0",
            ["parameters"] = new JsonObject { ["workspace"] = new JsonObject { ["value"] = "<your-workspace-name>" } },
        }.ToJsonString(Indented) + "\n";
        var ndjson = new StringBuilder();
        foreach (var r in rules)
        {
            ndjson.Append(r.Elastic.Rule.Document.ToJsonString(Compact)).Append('\n');
        }
        files["elastic/rules.ndjson"] = ndjson.ToString();
        var setup = new StringBuilder();
        foreach (var request in Targets.Elastic.ElasticHistory.Common().Concat(rules.SelectMany(r => r.Elastic.Setup)))
        {
            setup.Append(request.ToJson().ToJsonString(Compact)).Append('\n');
        }
        files["elastic/setup.ndjson"] = setup.ToString();
        // Response content (connectors, actions, request templates): Targets/Elastic/ElasticResponse.cs, Response/ResponseRequests.cs.
        foreach (var (path, text) in Targets.Elastic.ElasticResponse.Files(rules.Select(r => r.Analyzed)))
        {
            files[path] = text;
        }
        files["REPORT.md"] = Report(rules);
        return files;
    }

    private static string Report(List<CompiledRule> rules) => DocumentTemplates.Render("build-report.md.scriban", new
    {
        Rules = rules.Select(r => new
        {
            r.Analyzed.Rule.Name,
            Kind = r.Analyzed.Rule.Detect.Kind,
            Severity = r.Analyzed.Rule.Severity.ToString().ToLowerInvariant(),
            Status = r.Analyzed.Rule.Status.ToString().ToLowerInvariant(),
            SentinelPeriod = SentinelTarget.YamlDuration(r.Sentinel.Rule.QueryPeriod),
            SentinelFrequency = SentinelTarget.YamlDuration(r.Sentinel.Rule.QueryFrequency),
            ElasticFrom = r.Elastic.Rule.Document["from"]!.GetValue<string>(),
            ElasticInterval = r.Elastic.Rule.Document["interval"]!.GetValue<string>(),
            EsqlVersion = r.Elastic.Query.MinimumVersion.ToString(),
            Sigma = r.Sigma.Yaml is null ? "no" : "yes",
        }).ToList(),
        SigmaCount = rules.Count(r => r.Sigma.Yaml is not null),
        NotSigma = rules.Where(r => r.Sigma.WhyNot is not null).Select(r => new { r.Analyzed.Rule.Name, Why = r.Sigma.WhyNot }).ToList(),
        History = rules.SelectMany(r => r.Sentinel.Plan.SummaryRules.Zip(r.Sentinel.Plan.Refreshes, (s, f) => new
        {
            Rule = r.Analyzed.Rule.Name,
            Summary = s.Name,
            HourlyTable = s.DestinationTable,
            Refresh = f.Name,
            BaselineTable = f.DestinationTable,
        })).ToList(),
        Lookups = rules.SelectMany(r => r.Elastic.Plan.Lookups.Select(l => new { Rule = r.Analyzed.Rule.Name, l.Index, Field = l.JoinField, l.Purpose })).ToList(),
    });

    /// <summary>Writes the bundle to <paramref name="outDir"/>, replacing what was there only once every file is written.</summary>
    public static void Write(PackBuild build, string outDir)
    {
        var files = Files(build);
        var target = Path.GetFullPath(outDir);
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.staging-{Environment.ProcessId}");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        try
        {
            foreach (var (relative, content) in files)
            {
                var path = Path.Combine(staging, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            }
            var old = target + $".old-{Environment.ProcessId}";
            if (Directory.Exists(target))
            {
                Directory.Move(target, old);
            }
            Directory.Move(staging, target);
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }
}
