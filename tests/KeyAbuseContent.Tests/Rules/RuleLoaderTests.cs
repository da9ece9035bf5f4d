using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Rules;

public class RuleLoaderTests
{
    [Fact]
    public void ADuplicateIdIsReportedOnTheSecondRule()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        library.Rule("auth/test-other.yaml", RuleText.Threshold(name: "test-other"));
        var errors = TestLibrary.Errors(library.Build());
        var error = Assert.Single(errors);
        Assert.Contains("test-other.yaml:1:5: error KA1201: id 11111111-2222-4333-8444-555555555555 is already used by test-auth-burst", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ADuplicateNameIsReported()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        library.Rule("network/test-auth-burst.yaml", RuleText.Threshold(id: "11111111-2222-4333-8444-666666666666"));
        var errors = TestLibrary.Errors(library.Build());
        Assert.Contains(errors, e => e.Contains("error KA1202: name 'test-auth-burst' is already used", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnknownTagIsReportedOnTheTag()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold(tags: "[attack.t1110, attack.t9999]"));
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains(":12:22: error KA1203: tag 'attack.t9999' is not in the bundled ATT&CK, ATLAS or OWASP LLM 2025 lists", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownThreatListsTheThreats()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold().Replace("threats: [stolen-key-other-network]", "threats: [alien-invasion]", StringComparison.Ordinal));
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains("error KA1204: threat 'alien-invasion' is not in detections/threat-model.yaml (key-leaked-repo,", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileNotNamedAfterItsRuleIsReported()
    {
        using var library = new TestLibrary();
        library.Rule("auth/something-else.yaml", RuleText.Threshold());
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains("the file is named 'something-else', the rule 'test-auth-burst'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingDatasetIsReportedOnTheTest()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold().Replace("tests: []", "tests:\n  - dataset: auth/nowhere\n    expect: []", StringComparison.Ordinal));
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains("error KA1208: tests: dataset 'auth/nowhere' is not a folder under test-data/", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AStableRuleNeedsAPositiveAndANegativeTest()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold().Replace("status: experimental", "status: stable", StringComparison.Ordinal));
        var errors = TestLibrary.Errors(library.Build());
        Assert.Contains(errors, e => e.Contains("a stable rule has a positive test", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("a stable rule has a negative test", StringComparison.Ordinal));
    }

    [Fact]
    public void ABrokenRuleDoesNotStopTheOthers()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        library.Rule("auth/test-broken.yaml", "id: [unclosed\n");
        var build = library.Build();
        Assert.Single(TestLibrary.Errors(build));
        Assert.Single(build.Rules);
    }

    [Fact]
    public void AFieldTheSourceLacksIsReportedWhereTheExpressionNamesIt()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold(where: "statuss in (401, 403)"));
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains(":18:11: error KA1205: detect.where: 'statuss' is not one of the activity event fields; did you mean 'status'?", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExpressionThatDoesNotParseIsReportedAtItsColumn()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold(where: "status == 401 &&"));
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains(":18:25: error KA1301: detect.where: unexpected character '&'; combine conditions with 'and' and 'or'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExpectedKeyMissingFromTheDatasetInventoryIsReported()
    {
        using var library = new TestLibrary();
        library.Dataset("auth/burst");
        File.WriteAllText(Path.Combine(library.TestDataDir, "auth", "burst", "inventory.yaml"), "keys:\n  - id: svc-a\n");
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold().Replace("tests: []", "tests:\n  - dataset: auth/burst\n    expect: [{key_id: svc-b, from: \"2026-11-30T00:00:00Z\", to: \"2026-11-30T01:00:00Z\"}]", StringComparison.Ordinal));
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains("tests: key 'svc-b' is not in the inventory of dataset 'auth/burst'", error, StringComparison.Ordinal);
    }
}
