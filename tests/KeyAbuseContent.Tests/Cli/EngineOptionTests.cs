using KeyAbuseContent.Tests.Harness.Engines;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Cli;

/// <summary><c>--engine</c> on <c>keyabuse run</c> and <c>keyabuse test</c>: documented, validated, and a failing engine is exit code 2 with nothing written.</summary>
public class EngineOptionTests
{
    private static (TestLibrary Library, string Dataset) SmallLibrary()
    {
        var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        Directory.CreateSymbolicLink(Path.Combine(library.Root, "tools"), Path.Combine(TestPaths.RepositoryRoot, "tools"));
        var data = Path.Combine(library.Root, "data");
        Directory.CreateDirectory(data);
        File.WriteAllLines(Path.Combine(data, "events.jsonl"), Enumerable.Range(0, 25).Select(i =>
            $$"""{"time":"2026-11-30T10:00:{{i:00}}Z","key_id":"k1","status":401,"client_ip":"203.0.113.7"}"""));
        return (library, "data");
    }

    [Theory]
    [InlineData("run")]
    [InlineData("test")]
    public void Help_documents_the_engine_option_with_an_example(string verb)
    {
        var result = Keyabuse.Run(TestPaths.RepositoryRoot, verb, "--help");
        // The help is wrapped to the terminal: words, not line breaks, are compared.
        var help = System.Text.RegularExpressions.Regex.Replace(result.Output, @"\s+", " ");

        Assert.Equal(0, result.Exit);
        Assert.Contains("--engine <NAME=URL>", help, StringComparison.Ordinal);
        Assert.Contains("KEYABUSE_KUSTO_TOKEN", help, StringComparison.Ordinal);
        Assert.Contains("KEYABUSE_ELASTICSEARCH_API_KEY", help, StringComparison.Ordinal);
        Assert.Contains(verb == "run" ? "--engine kusto=https://mycluster.westeurope.kusto.windows.net/KeyAbuse" : "--engine elasticsearch=http://localhost:9200", help, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_engine_is_bad_usage()
    {
        var result = Keyabuse.Run(TestPaths.RepositoryRoot, "run", "--dataset", "test-data/volume/rpm-burst", "--engine", "splunk=http://localhost:8089");

        Assert.Equal(2, result.Exit);
        Assert.Contains("--engine 'splunk=http://localhost:8089': kusto=URL or elasticsearch=URL", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_engine_address_is_bad_input()
    {
        var (library, dataset) = SmallLibrary();
        using var _ = library;

        var result = Keyabuse.Run(library.Root, "run", "--dataset", dataset, "--engine", "kusto=https://cluster.example.net");

        Assert.Equal(2, result.Exit);
        Assert.Contains("--engine: 'https://cluster.example.net' names no database", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ingestion_delay_with_a_real_engine_is_bad_usage()
    {
        var (library, dataset) = SmallLibrary();
        using var _ = library;

        var result = Keyabuse.Run(library.Root, "run", "--dataset", dataset, "--ingestion-delay", "2m", "--engine", "elasticsearch=http://127.0.0.1:1");

        Assert.Equal(2, result.Exit);
        Assert.Contains("--ingestion-delay is played by the embedded executors only", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_engine_is_exit_code_two_with_a_readable_error_and_no_alert_file()
    {
        var (library, dataset) = SmallLibrary();
        using var _ = library;

        var result = Keyabuse.Run(library.Root, "run", "--dataset", dataset, "--target", "elastic", "--engine", "elasticsearch=http://127.0.0.1:1", "--out", "alerts.jsonl");

        Assert.Equal(2, result.Exit);
        Assert.Contains("error: cannot reach Elasticsearch at http://127.0.0.1:1/", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", result.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(library.Root, "alerts.jsonl")));
    }

    [Fact]
    public void A_run_on_an_elasticsearch_cluster_sends_the_key_from_the_environment_on_every_request_and_never_prints_it()
    {
        var (library, dataset) = SmallLibrary();
        using var _ = library;
        using var fake = new FakeElasticsearch(apiKey: "a2V5LWlkOnNlY3JldA==");

        var result = Keyabuse.RunWith(new Dictionary<string, string> { ["KEYABUSE_ELASTICSEARCH_API_KEY"] = "a2V5LWlkOnNlY3JldA==" },
            library.Root, "run", "--dataset", dataset, "--target", "elastic", "--engine", "elasticsearch=" + fake.Url, "--out", "alerts.jsonl");

        Assert.True(result.Exit == 0, result.Output);
        Assert.Contains("running on real engines: ES|QL on Elasticsearch " + fake.Url, result.Output, StringComparison.Ordinal);
        Assert.Contains(fake.Requests, r => r.Path == "/_query");
        Assert.All(fake.Requests, r => Assert.Equal("ApiKey a2V5LWlkOnNlY3JldA==", r.Header("Authorization")));
        Assert.DoesNotContain("a2V5LWlkOnNlY3JldA==", result.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(library.Root, "alerts.jsonl")));
    }
}
