using KeyAbuseContent.Build;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Engines;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Tests.Harness.Engines;

/// <summary>
/// A test that runs only against a real engine whose address is in <paramref name="variable"/>; without it, xunit
/// reports the test as skipped with the reason (xunit 2 has no skip from inside a test: the attribute decides).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealEngineTheoryAttribute : TheoryAttribute
{
    public RealEngineTheoryAttribute(string variable)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable)))
        {
            Skip = $"opt-in: set {variable} to run this test against a real engine (README.md, 'Running on real engines')";
        }
    }
}

/// <summary>
/// Opt-in: a library rule's published queries on a real Azure Data Explorer database (<c>KEYABUSE_KUSTO_URL</c>,
/// token in <c>KEYABUSE_KUSTO_TOKEN</c>) or Elasticsearch cluster (<c>KEYABUSE_ELASTICSEARCH_URL</c>, API key in
/// <c>KEYABUSE_ELASTICSEARCH_API_KEY</c>) raise the alerts the embedded executors raise on the same datasets.
/// </summary>
public class RealEngineTests
{
    private static readonly Lazy<PackBuild> Pack = new(() => new PackBuilder(TestPaths.RepositoryRoot, TestPaths.Detections).Build());

    private const string Rule = "llm-key-auth-failure-burst";

    private static string Alerts(IEnumerable<Alert> alerts) =>
        string.Join("\n", alerts.Select(a => $"{a.Rule} {Alert.Iso(a.Time)} {a.KeyId} {a.Title}"));

    private static (IReadOnlyList<CompiledRule> Rules, Dataset Dataset) Load(string dataset) =>
        ([Pack.Value.Rules.Single(r => r.Analyzed.Rule.Name == Rule)], DatasetLoader.Load(Path.Combine(TestPaths.TestData, dataset)));

    [RealEngineTheory("KEYABUSE_KUSTO_URL")]
    [InlineData("auth/failure-burst")]
    [InlineData("vendor/litellm")]
    public void On_kusto_a_rule_raises_the_alerts_of_the_embedded_executor(string name)
    {
        var (rules, dataset) = Load(name);
        var embedded = new SentinelRunner(new RunOptions(), TestPaths.Detections).Run(rules, dataset);
        using var engine = KustoEngine.FromUrl(Environment.GetEnvironmentVariable("KEYABUSE_KUSTO_URL")!);

        var remote = new SentinelRunner(new RunOptions { KqlEngine = engine }, TestPaths.Detections).Run(rules, dataset);

        Assert.NotEmpty(embedded.Alerts);
        Assert.Equal(Alerts(embedded.Alerts), Alerts(remote.Alerts));
    }

    [RealEngineTheory("KEYABUSE_ELASTICSEARCH_URL")]
    [InlineData("auth/failure-burst")]
    [InlineData("vendor/litellm")]
    public void On_elasticsearch_a_rule_raises_the_alerts_of_the_embedded_executor(string name)
    {
        var (rules, dataset) = Load(name);
        var embedded = new ElasticRunner(new RunOptions()).Run(rules, dataset);
        var engine = ElasticsearchEngine.FromUrl(Environment.GetEnvironmentVariable("KEYABUSE_ELASTICSEARCH_URL")!,
            [.. ElasticHistory.Common().Concat(Pack.Value.Rules.SelectMany(r => r.Elastic.Setup))]);

        var remote = new ElasticRunner(new RunOptions { EsqlEngine = engine }).Run(rules, dataset);

        Assert.NotEmpty(embedded.Alerts);
        Assert.Equal(Alerts(embedded.Alerts), Alerts(remote.Alerts));
    }
}
