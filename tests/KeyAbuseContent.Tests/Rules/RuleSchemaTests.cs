using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Rules;

public class RuleSchemaTests
{
    private static IReadOnlyList<string> Errors(string yaml, string file = "auth/test-auth-burst.yaml")
    {
        using var library = new TestLibrary();
        library.Rule(file, yaml);
        return TestLibrary.Errors(library.Build());
    }

    [Fact]
    public void AValidRuleHasNoErrors() => Assert.Empty(Errors(RuleText.Threshold()));

    [Fact]
    public void AnUnknownFieldIsReportedOnItsKey()
    {
        var yaml = RuleText.Threshold().Replace("severity: medium\n", "severity: medium\nseverty: high\n", StringComparison.Ordinal);
        var error = Assert.Single(Errors(yaml));
        Assert.Contains("test-auth-burst.yaml:8:1: error KA1102: unknown field 'severty' in a rule", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingFieldIsReportedOnItsParentMapping()
    {
        var yaml = RuleText.Threshold().Replace("  window: 5m\n", "", StringComparison.Ordinal);
        var error = Assert.Single(Errors(yaml));
        Assert.Contains(":17:3: error KA1103: 'detect' lacks the required field 'window'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownKindNamesTheKindsThereAre()
    {
        var yaml = RuleText.Threshold().Replace("kind: threshold", "kind: spike", StringComparison.Ordinal);
        var error = Assert.Single(Errors(yaml));
        Assert.Contains(":17:9: error KA1104: unknown detection kind 'spike'; expected one of threshold, baseline, new_value, profile, sequence, inventory", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AWrongTypeSaysWhatWasFound()
    {
        var yaml = RuleText.Threshold().Replace("window: 5m", "window: [5m]", StringComparison.Ordinal);
        var error = Assert.Single(Errors(yaml));
        Assert.Contains("'detect.window' must be a string, not a list", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEnumValueOutsideItsListNamesTheValues()
    {
        var yaml = RuleText.Threshold().Replace("severity: medium", "severity: severe", StringComparison.Ordinal);
        var error = Assert.Single(Errors(yaml));
        Assert.Contains(":7:11: error KA1101: 'severity' is 'severe'; expected one of informational, low, medium, high, critical", error, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryProblemOfAFileIsReportedAtOnce()
    {
        var yaml = RuleText.Threshold()
            .Replace("severity: medium", "severity: severe", StringComparison.Ordinal)
            .Replace("status: experimental", "status: draft", StringComparison.Ordinal)
            .Replace("author: tests\n", "", StringComparison.Ordinal);
        Assert.Equal(3, Errors(yaml).Count);
    }

    [Fact]
    public void NoStaysAStringAndFailsTheSeverityEnum()
    {
        var yaml = RuleText.Threshold().Replace("severity: medium", "severity: NO", StringComparison.Ordinal);
        var error = Assert.Single(Errors(yaml));
        Assert.Contains("'severity' is 'NO'", error, StringComparison.Ordinal);
    }
}
