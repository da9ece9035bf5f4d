using System.Text.Json.Nodes;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Validation;

namespace KeyAbuseContent.Tests.Validation;

/// <summary>The setup calls create each transform and then start it (Elasticsearch creates transforms stopped).</summary>
public sealed class ElasticSetupOrderTests
{
    private static ElasticSetupRequest Put(string id) => new("PUT", "/_transform/" + id, new JsonObject { ["description"] = id }, "creates " + id);

    private static ElasticSetupRequest StartOf(string id) => new("POST", "/_transform/" + id + "/_start", null, "starts " + id);

    [Fact]
    public void A_transform_created_without_its_start_call_is_a_problem()
    {
        var problem = Assert.Single(ElasticSetupOrder.Check([Put("rule-a-buckets")]));
        Assert.Contains("the transform rule-a-buckets is created but never started", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_transform_created_then_started_is_fine()
    {
        Assert.Empty(ElasticSetupOrder.Check([Put("rule-a-buckets"), StartOf("rule-a-buckets")]));
    }

    [Fact]
    public void A_start_before_the_transform_is_created_is_a_problem()
    {
        var problem = Assert.Single(ElasticSetupOrder.Check([StartOf("rule-a-buckets"), Put("rule-a-buckets")]));
        Assert.Contains("started before it is created", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_start_call_with_a_body_is_a_problem()
    {
        var problem = Assert.Single(ElasticSetupOrder.Check([Put("t"), StartOf("t") with { Body = [] }]));
        Assert.Contains("has a body", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_start_call_is_written_without_a_body()
    {
        var start = ElasticSetupRequest.Transform("t", [], "p").Last().ToJson();
        Assert.Equal("""{"method":"POST","path":"/_transform/t/_start","purpose":"starts the transform t (created stopped)"}""", start.ToJsonString());
    }

    [Fact]
    public void The_common_setup_starts_every_transform_it_creates()
    {
        var common = ElasticHistory.Common().ToList();
        Assert.Contains(common, r => r.Method == "POST" && r.Path.EndsWith("/_start", StringComparison.Ordinal));
        Assert.Empty(ElasticSetupOrder.Check(common));
    }
}
