using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Validation.Kql;

namespace KeyAbuseContent.Tests.Engine.Kql.Agreement;

/// <summary>What Microsoft's Kusto language service infers for a query: its result columns (null when not a table) and its errors.</summary>
internal sealed record KustoResult(string Id, List<string>? Columns, List<string> Errors);

/// <summary>Runs result-schemas.js with node; fails with the install instructions when node or the package is missing.</summary>
internal static class KustoResultSchemas
{
    public static IReadOnlyList<KustoResult> Infer(KqlDatabaseSchema schema, IReadOnlyList<(string Id, string Text)> queries)
    {
        var node = KustoLanguageService.Locate(TestPaths.RepositoryRoot).NodePath;
        var request = new JsonObject
        {
            ["tables"] = new JsonArray([.. schema.Tables.Select(t => (JsonNode)new JsonObject
            {
                ["name"] = t.Name,
                ["columns"] = new JsonArray([.. t.Columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type })]),
            })]),
            ["functions"] = new JsonArray([.. schema.Functions.Select(f => (JsonNode)new JsonObject { ["name"] = f.Name, ["parameters"] = f.Parameters, ["body"] = f.Body })]),
            ["queries"] = new JsonArray([.. queries.Select(q => (JsonNode)new JsonObject { ["id"] = q.Id, ["text"] = q.Text })]),
        };
        var start = new ProcessStartInfo(node)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "tests", "KeyAbuseContent.Tests", "Engine", "Kql", "Agreement", "result-schemas.js"));
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("result-schemas.js did not finish in ten minutes (a shared machine at load 40 gives node a fraction of a core)");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"result-schemas.js exited with {process.ExitCode}: {stderr.Result}");
        }
        var results = JsonNode.Parse(stdout.Result)!["results"]!.AsArray();
        return [.. results.Select(r => new KustoResult(
            (string)r!["id"]!,
            r["columns"] is JsonArray columns ? [.. columns.Select(c => $"{(string)c!["name"]!}:{(string)c["type"]!}")] : null,
            [.. r["errors"]!.AsArray().Select(e => (string)e!)]))];
    }
}
