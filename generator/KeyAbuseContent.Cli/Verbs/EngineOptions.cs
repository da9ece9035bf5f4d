using KeyAbuseContent.Build;
using KeyAbuseContent.Harness.Engines;
using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary>
/// The real engines of <c>--engine kusto=URL</c> and <c>--engine elasticsearch=URL</c>; the embedded executors run
/// what has none. Credentials come from the environment only (<see cref="KustoEngine.TokenVariable"/>,
/// <see cref="ElasticsearchEngine.ApiKeyVariable"/>).
/// </summary>
public sealed class EngineOptions : IDisposable
{
    private EngineOptions(KustoEngine? kusto, ElasticsearchEngine? elasticsearch)
    {
        Kusto = kusto;
        Elasticsearch = elasticsearch;
    }

    public KustoEngine? Kusto { get; }

    public ElasticsearchEngine? Elasticsearch { get; }

    /// <summary>What the run's summary says about where the queries ran.</summary>
    public string Describe() => string.Join("; ", new[]
    {
        Kusto is null ? null : $"KQL on Kusto {Kusto.Cluster} database {Kusto.Database}",
        Elasticsearch is null ? null : $"ES|QL on Elasticsearch {Elasticsearch.Url}",
    }.Where(s => s is not null));

    /// <summary>A problem with an --engine value, or null when they are all right.</summary>
    public static string? Check(IEnumerable<string> values)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var eq = value.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? value : value[..eq];
            if (eq < 0 || name is not ("kusto" or "elasticsearch"))
            {
                return $"--engine '{value}': kusto=URL or elasticsearch=URL, e.g. --engine kusto=https://mycluster.westeurope.kusto.windows.net/KeyAbuse";
            }
            if (!seen.Add(name))
            {
                return $"--engine {name} is given twice";
            }
        }
        return null;
    }

    /// <summary>The engines the values name, with the setup the Elastic engine installs; a bad address is bad input.</summary>
    public static EngineOptions Create(IEnumerable<string> values, IReadOnlyList<CompiledRule> rules)
    {
        KustoEngine? kusto = null;
        ElasticsearchEngine? elasticsearch = null;
        try
        {
            foreach (var value in values)
            {
                var eq = value.IndexOf('=', StringComparison.Ordinal);
                var (name, url) = (value[..eq], value[(eq + 1)..]);
                if (name == "kusto")
                {
                    kusto = KustoEngine.FromUrl(url);
                }
                else
                {
                    elasticsearch = ElasticsearchEngine.FromUrl(url, [.. ElasticHistory.Common().Concat(rules.SelectMany(r => r.Elastic.Setup))]);
                }
            }
        }
        catch (ArgumentException e)
        {
            kusto?.Dispose();
            throw new BadInputException("--engine: " + e.Message);
        }
        return new EngineOptions(kusto, elasticsearch);
    }

    public void Dispose() => Kusto?.Dispose();
}
