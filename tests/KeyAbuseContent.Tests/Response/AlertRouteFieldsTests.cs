using KeyAbuseContent.Build;
using KeyAbuseContent.Targets.Esql;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Response;

/// <summary>Every alert of every kind carries the key's owner, team, service and route name on both platforms.</summary>
public sealed class AlertRouteFieldsTests
{
    private static readonly Lazy<PackBuild> Kinds = new(() =>
    {
        using var library = new TestLibrary();
        var fixtures = Path.Combine(TestPaths.RepositoryRoot, "tests", "KeyAbuseContent.Tests", "Fixtures", "kinds");
        foreach (var file in Directory.GetFiles(fixtures, "*.yaml", SearchOption.AllDirectories))
        {
            library.Rule(Path.GetRelativePath(fixtures, file), File.ReadAllText(file));
        }
        return library.Build();
    });

    [Fact]
    public void Every_Sentinel_rule_has_the_route_as_custom_details()
    {
        Assert.All(Kinds.Value.Rules, r => Assert.All(KqlRuleCompiler.RouteColumns, c =>
            Assert.Contains((c.Column, c.Column), r.Sentinel.Rule.CustomDetails)));
    }

    [Fact]
    public void Every_Elastic_query_returns_the_route_fields()
    {
        Assert.All(Kinds.Value.Rules, r => Assert.All(EsqlRuleCompiler.RouteFields, f =>
        {
            Assert.Contains(f, r.Elastic.Plan.ResultColumns);
            Assert.Contains(f, r.Elastic.Query.Text.Split('\n')[^1], StringComparison.Ordinal);
        }));
    }

    [Fact]
    public void The_route_fields_are_the_inventory_indexs_documented_names()
    {
        Assert.Equal(["keyabuse.key.owner", "keyabuse.key.team", "keyabuse.key.service", "keyabuse.key.oncall_route"], EsqlRuleCompiler.RouteFields.ToArray());
    }
}
