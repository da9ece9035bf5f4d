using KeyAbuseContent.Validation.Kql;

namespace KeyAbuseContent.Tests.Engine.Kql.Agreement;

// Each tabular operator of the subset, in the shapes the executor supports, must bind in Microsoft's language
// service and give the columns (names and types, in order) it infers.
public sealed class OperatorAgreementTests
{
    private const string L = "datatable(Key:string, V:long, T:datetime, D:dynamic, S:string)['a', 1, datetime(2026-01-01), dynamic([1, 2]), 'x=1 y=z']";
    private const string R = "datatable(Key:string, W:real, V:long)['a', 2.5, 3]";

    private static readonly string[] Queries =
    [
        $"{L} | where V > 0 and Key has 'a'",
        $"{L} | extend N = V * 2, V = tostring(V), strlen(Key), bin(T, 1h), Key == 'ax'",
        $"{L} | extend D.x, D[0], todouble(V), round(V), iff(V > 1, 'big', 'small')",
        $"{L} | project Key, V2 = V * 2, tolower(Key), T",
        $"{L} | project-away D, S | project-rename K = Key | project-reorder T, K",
        $"{L} | project-keep K*, V",
        $"{L} | distinct Key, V",
        $"{L} | project-away D | distinct *",
        $"{L} | count",
        $"{L} | top 3 by V desc nulls first",
        $"{L} | sort by Key asc, V | take 2",
        $"{L} | join ({R}) on Key",
        $"{L} | join kind=inner ({R}) on Key",
        $"{L} | join kind=leftouter ({R}) on Key",
        $"{L} | join kind=rightouter ({R}) on Key",
        $"{L} | join kind=fullouter ({R}) on Key",
        $"{L} | join kind=leftanti ({R}) on Key",
        $"{L} | join kind=leftsemi ({R}) on Key",
        $"{L} | join kind=rightanti ({R}) on Key",
        $"{L} | join kind=rightsemi ({R}) on Key",
        $"{L} | join kind=inner ({R} | project K2 = Key, W) on $left.Key == $right.K2",
        $"{L} | join kind=inner ({R}) on Key, V",
        $"{L} | lookup ({R}) on Key",
        $"{L} | lookup kind=inner ({R} | project K2 = Key, W) on $left.Key == $right.K2",
        $"{L} | union ({R})",
        $"union withsource=Source ({L}), ({R})",
        $"{L} | mv-expand D",
        $"{L} | mv-expand D to typeof(long)",
        $"{L} | mv-expand with_itemindex=I E = D to typeof(string), D",
        $"{L} | mv-expand kind=array D limit 5",
        $"{L} | parse S with 'x=' X:long ' y=' Y",
        $"{L} | parse kind=regex S with 'x=' X:long ' y=' Y:string",
        $"{L} | parse kind=relaxed S with * 'y=' Y",
        $"{L} | serialize | extend N = 1",
        $"let F = (k:string) {{ {L} | where Key == k }}; F('a') | project V",
        $"let M = materialize({L} | summarize n = count() by Key); M | join kind=inner M on Key",
        $"let top = toscalar({R} | summarize max(W)); {L} | extend Top = top",
        $"{L} | where Key in (({R}) | distinct Key)",
        "print 1, 'a', x = now(), 1h / 1m, datetime(2026-01-01) - datetime(2025-01-01)",
        "range x from 1 to 10 step 3 | extend y = x % 2",
        "range t from datetime(2026-01-01) to datetime(2026-01-02) step 6h",
    ];

    [Fact]
    public void Every_operator_gives_the_columns_Microsoft_infers()
    {
        var queries = Queries.Select((q, i) => ($"q{i}", q)).ToList();
        var kusto = KustoResultSchemas.Infer(new KqlDatabaseSchema([], []), queries);

        var differences = new List<string>();
        foreach (var ((_, query), inferred) in queries.Zip(kusto))
        {
            var ours = KqlTestKit.Schema(KqlTestKit.Run(query));
            if (inferred.Errors.Count > 0 || !ours.SequenceEqual(inferred.Columns ?? []))
            {
                differences.Add($"{query}\n  executor [{string.Join(", ", ours)}]\n  Kusto.Language [{string.Join(", ", inferred.Columns ?? [])}] {string.Join("; ", inferred.Errors)}");
            }
        }

        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }
}
