using KeyAbuseContent.Validation;

namespace KeyAbuseContent.Tests.Validation;

public class SigmaSchemaValidatorTests
{
    private static readonly SigmaSchemaValidator Validator = SigmaSchemaValidator.Load(ValidationTestPaths.SigmaSchemaDir);

    private const string BaseRule = """
        title: API key used from many addresses
        id: 0b0b5a76-2f4d-4a53-9d1e-7d2c6c0f5a11
        name: api_key_request
        status: experimental
        description: Counts requests made with an API key.
        author: KeyAbuseContent
        date: 2025-01-31
        modified: 2025-02-01
        tags:
          - attack.credential-access
          - attack.t1078.004
        logsource:
          product: azure
          service: activitylogs
        detection:
          selection:
            OperationNameValue|endswith: /listKeys/action
            ActivityStatusValue:
              - Success
              - Succeeded
          condition: selection
        falsepositives:
          - Key rotation jobs
        level: medium
        """;

    private const string EventCountCorrelation = """
        title: Many key listings by one caller
        id: 6a3e2c1d-9b8f-4e7a-a5d4-3c2b1a0f9e8d
        status: experimental
        correlation:
          type: event_count
          rules:
            - api_key_request
          group-by:
            - Caller
          timespan: 1h
          condition:
            gte: 10
        level: high
        """;

    /// <summary>A YAML stream of the given documents, separated by ---.</summary>
    private static string Stream(params string[] documents) => string.Join("---\n", documents.Select(d => d + "\n"));

    [Fact]
    public void ValidRuleHasNoProblems()
    {
        Assert.Empty(Validator.Check(BaseRule));
    }

    [Fact]
    public void RuleWithoutLogsourceIsRefused()
    {
        var yaml = BaseRule.Replace("logsource:\n  product: azure\n  service: activitylogs\n", "", StringComparison.Ordinal);

        var problem = Assert.Single(Validator.Check(yaml));
        Assert.Equal("document 1 (line 1): /logsource: required field is missing", problem);
    }

    [Fact]
    public void DateOutsideTheCalendarIsRefused()
    {
        var yaml = BaseRule.Replace("date: 2025-01-31", "date: 2025-13-01", StringComparison.Ordinal);

        var problem = Assert.Single(Validator.Check(yaml));
        Assert.StartsWith("document 1 (line 7): /date: value \"2025-13-01\" does not match the pattern", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownLevelIsRefused()
    {
        var yaml = BaseRule.Replace("level: medium", "level: severe", StringComparison.Ordinal);

        var problem = Assert.Single(Validator.Check(yaml));
        Assert.Equal("document 1 (line 24): /level: value \"severe\" is not one of \"informational\", \"low\", \"medium\", \"high\", \"critical\"", problem);
    }

    [Fact]
    public void TagWithoutNamespaceIsRefused()
    {
        var yaml = BaseRule.Replace("  - attack.t1078.004", "  - T1078", StringComparison.Ordinal);

        var problem = Assert.Single(Validator.Check(yaml));
        Assert.StartsWith("document 1 (line 11): /tags/1: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void NonUuidIdIsAccepted()
    {
        // The schema marks id format "uuid", but Sigma only recommends UUIDs; format is not asserted.
        var yaml = BaseRule.Replace("id: 0b0b5a76-2f4d-4a53-9d1e-7d2c6c0f5a11", "id: api-key-1", StringComparison.Ordinal);

        Assert.Empty(Validator.Check(yaml));
    }

    [Fact]
    public void RuleAndEventCountCorrelationAsTwoDocumentsPass()
    {
        Assert.Empty(Validator.Check(Stream(BaseRule, EventCountCorrelation)));
    }

    [Fact]
    public void CorrelationWithUnknownTypeIsRefused()
    {
        var yaml = Stream(BaseRule, EventCountCorrelation.Replace("type: event_count", "type: event_burst", StringComparison.Ordinal));

        var problem = Assert.Single(Validator.Check(yaml));
        Assert.StartsWith("document 2 (line 30): /correlation/type: value \"event_burst\" is not one of \"event_count\"", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void EventCountCorrelationWithoutGroupByIsRefused()
    {
        var yaml = EventCountCorrelation.Replace("  group-by:\n    - Caller\n", "", StringComparison.Ordinal);

        var problem = Assert.Single(Validator.Check(yaml));
        Assert.Equal("document 1 (line 4): /correlation/group-by: required field is missing", problem);
    }

    [Fact]
    public void ValueSumCorrelationPasses()
    {
        // Sigma 2.1 value_sum: the bundled correlation schema is V2.1.0 and lists it.
        const string valueSum = """
            title: Large token spend by one key
            correlation:
              type: value_sum
              rules:
                - api_key_request
              group-by:
                - KeyId
              timespan: 1d
              condition:
                gt: 1000000
                field: TotalTokens
            level: medium
            """;

        Assert.Empty(Validator.Check(valueSum));
    }

    [Fact]
    public void GlobalFilterIsCheckedAgainstTheFilterSchema()
    {
        const string filter = """
            title: Ignore the key rotation job
            logsource:
              product: azure
            filter:
              rules:
                - api_key_request
              selection:
                Caller: rotation-job@example.com
            """;

        var problem = Assert.Single(Validator.Check(filter));
        Assert.Equal("document 1 (line 4): /filter/condition: required field is missing", problem);
    }

    [Fact]
    public void TrailingEmptyDocumentIsIgnored()
    {
        Assert.Empty(Validator.Check(Stream(BaseRule, "")));
    }

    [Fact]
    public void YamlSyntaxErrorIsReported()
    {
        var problem = Assert.Single(Validator.Check("title: [unclosed\n"));
        Assert.Contains("YAML syntax", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateKeyIsReported()
    {
        var problem = Assert.Single(Validator.Check(BaseRule + "\nlevel: high\n"));
        Assert.Contains("duplicate key 'level'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void DocumentThatIsNotAMappingIsRefused()
    {
        var problem = Assert.Single(Validator.Check(Stream(BaseRule, "- a\n- b")));
        Assert.StartsWith("document 2 (line 26): a Sigma document is a mapping", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void QuotedNumberIsAString()
    {
        // A quoted scalar is a string, so a quoted title passes where a bare number would not.
        var yaml = BaseRule.Replace("title: API key used from many addresses", "title: '1234'", StringComparison.Ordinal);

        Assert.Empty(Validator.Check(yaml));
    }

    [Fact]
    public void BareNumberTitleIsRefused()
    {
        var yaml = BaseRule.Replace("title: API key used from many addresses", "title: 1234", StringComparison.Ordinal);

        var problem = Assert.Single(Validator.Check(yaml));
        Assert.StartsWith("document 1 (line 1): /title: ", problem, StringComparison.Ordinal);
    }
}
