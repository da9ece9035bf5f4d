using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Validation;

/// <summary>
/// Checks the order of Elasticsearch setup calls (<c>elastic/setup.ndjson</c>): every transform created
/// (<c>PUT /_transform/&lt;id&gt;</c>) is started after it (<c>POST /_transform/&lt;id&gt;/_start</c>, without a body),
/// since Elasticsearch creates transforms stopped and a stopped transform keeps no history current; a start
/// of a transform not created before it fails on a fresh cluster.
/// </summary>
public static class ElasticSetupOrder
{
    private const string Prefix = "/_transform/";
    private const string Start = "/_start";

    /// <summary>Every problem of the calls' order, each naming the transform; empty when each is created, then started.</summary>
    public static IReadOnlyList<string> Check(IEnumerable<ElasticSetupRequest> requests)
    {
        var problems = new List<string>();
        var created = new List<string>();
        var started = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            if (!request.Path.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }
            var rest = request.Path[Prefix.Length..];
            if (request.Method == "PUT" && !rest.Contains('/', StringComparison.Ordinal))
            {
                created.Add(rest);
            }
            else if (request.Method == "POST" && rest.EndsWith(Start, StringComparison.Ordinal))
            {
                var id = rest[..^Start.Length];
                if (!created.Contains(id, StringComparer.Ordinal))
                {
                    problems.Add($"the transform {id} is started before it is created (PUT {Prefix}{id} first)");
                }
                if (request.Body is not null)
                {
                    problems.Add($"the start of the transform {id} has a body; Elasticsearch refuses one on POST {Prefix}{id}{Start}");
                }
                started.Add(id);
            }
        }
        problems.AddRange(created.Where(id => !started.Contains(id))
            .Select(id => $"the transform {id} is created but never started: Elasticsearch creates it stopped, so add POST {Prefix}{id}{Start} after its PUT"));
        return problems;
    }
}
