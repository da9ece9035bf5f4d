using System.Collections.Immutable;
using KeyAbuseContent.Targets.Sentinel;
using KeyAbuseContent.Validation;

namespace KeyAbuseContent.Tests.Validation;

public class SentinelRuleLimitsTests
{
    private static readonly ImmutableArray<string> Columns = ["TimeGenerated", "UserPrincipalName", "CallerIpAddress", "AppId", "RequestCount", "ResourceId"];

    private static SentinelAnalyticsRule ValidRule() => new()
    {
        Id = Guid.Parse("6f0c3f0e-3a4e-4b8f-9a55-1f6a2b0c9d10"),
        RuleName = "api-key-new-country",
        Name = "API key used from a new country",
        Description = "An API key was used from a country it has not been used from in the last 14 days.",
        Severity = "Medium",
        RequiredDataConnectors = [new SentinelDataConnector("AzureActivity", ["AzureActivity"])],
        QueryFrequency = TimeSpan.FromHours(1),
        QueryPeriod = TimeSpan.FromDays(14),
        TriggerOperator = "gt",
        TriggerThreshold = 0,
        Tactics = ["CredentialAccess", "InitialAccess"],
        RelevantTechniques = ["T1078.004", "T1552"],
        Query = "AzureActivity | summarize RequestCount = count() by UserPrincipalName, CallerIpAddress, AppId, ResourceId",
        EntityMappings =
        [
            new SentinelEntityMapping("Account", [("FullName", "UserPrincipalName")]),
            new SentinelEntityMapping("IP", [("Address", "CallerIpAddress")]),
            new SentinelEntityMapping("CloudApplication", [("AppId", "AppId")]),
        ],
        CustomDetails = [("Requests", "RequestCount"), ("Resource", "ResourceId")],
        AlertDisplayNameFormat = "Key of {{UserPrincipalName}} used from {{CallerIpAddress}}",
        AlertDescriptionFormat = "{{RequestCount}} requests to {{ResourceId}}.",
        IncidentGroupingLookback = TimeSpan.FromHours(5),
        IncidentGroupByEntities = ["Account"],
        Version = "1.0.0",
        ResultColumns = Columns,
    };

    private static ImmutableArray<SentinelEntityMapping> IpMappings(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new SentinelEntityMapping("IP", [("Address", "CallerIpAddress")]))];

    [Fact]
    public void ValidRuleHasNoProblems()
    {
        Assert.Empty(SentinelRuleLimits.Check(ValidRule()));
    }

    [Fact]
    public void PeriodOfThreeDaysWithFrequencyOfFiveMinutesIsRefused()
    {
        var rule = ValidRule() with { QueryPeriod = TimeSpan.FromDays(3), QueryFrequency = TimeSpan.FromMinutes(5) };

        var problem = Assert.Single(SentinelRuleLimits.Check(rule));
        Assert.StartsWith("queryPeriod 3d needs a queryFrequency of at least 1h (it is 5m)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void PeriodShorterThanFrequencyIsRefused()
    {
        var rule = ValidRule() with { QueryPeriod = TimeSpan.FromMinutes(30), QueryFrequency = TimeSpan.FromHours(1) };

        Assert.Contains(SentinelRuleLimits.Check(rule), p => p.StartsWith("queryPeriod 30m is shorter than queryFrequency 1h", StringComparison.Ordinal));
    }

    [Fact]
    public void FrequencyUnderFiveMinutesIsRefused()
    {
        var rule = ValidRule() with { QueryFrequency = TimeSpan.FromMinutes(1), QueryPeriod = TimeSpan.FromMinutes(10) };

        Assert.Contains("queryFrequency 1m is outside 5m..14d", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void PeriodOverFourteenDaysIsRefused()
    {
        var rule = ValidRule() with { QueryPeriod = TimeSpan.FromDays(15) };

        Assert.Contains("queryPeriod 15d is outside 5m..14d", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void TriggerThresholdOverTenThousandIsRefused()
    {
        var rule = ValidRule() with { TriggerThreshold = 10_001 };

        Assert.Contains("triggerThreshold 10001 is outside 0..10000", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void UnknownTriggerOperatorIsRefused()
    {
        var rule = ValidRule() with { TriggerOperator = "ge" };

        Assert.Contains("triggerOperator 'ge' is not one of gt, lt, eq, ne", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void QueryOverTenThousandCharactersIsRefused()
    {
        var rule = ValidRule() with { Query = "AzureActivity " + new string(' ', 10_000) };

        Assert.Contains("query is 10014 characters; Sentinel allows at most 10000", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void CriticalSeverityIsRefused()
    {
        var rule = ValidRule() with { Severity = "Critical" };

        var problem = Assert.Single(SentinelRuleLimits.Check(rule));
        Assert.Contains("severity 'Critical'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void LowerCaseSeverityIsRefused()
    {
        var rule = ValidRule() with { Severity = "critical" };

        Assert.Single(SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void SixEntityMappingsAreAllowed()
    {
        // Azure-Sentinel's CI raised the limit from 5 to 10 (QueryBasedTemplateInternalModel).
        var rule = ValidRule() with { EntityMappings = IpMappings(6) };

        Assert.Empty(SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void ElevenEntityMappingsAreRefused()
    {
        var rule = ValidRule() with { EntityMappings = IpMappings(11) };

        Assert.Contains("entityMappings has 11 entities; Sentinel allows 1 to 10", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void NoEntityMappingIsRefused()
    {
        var rule = ValidRule() with { EntityMappings = [] };

        Assert.Contains("entityMappings has 0 entities; Sentinel allows 1 to 10", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void FourFieldMappingsInOneEntityAreRefused()
    {
        var account = new SentinelEntityMapping("Account",
            [("FullName", "UserPrincipalName"), ("Name", "UserPrincipalName"), ("AadUserId", "AppId"), ("Sid", "ResourceId")]);
        var rule = ValidRule() with { EntityMappings = [account] };

        Assert.Contains("entityMappings[0] (Account) has 4 field mappings; Sentinel allows 1 to 3", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void UnknownEntityTypeIsRefused()
    {
        var rule = ValidRule() with { EntityMappings = [new SentinelEntityMapping("ApiKey", [("Name", "AppId")])] };

        Assert.Contains(SentinelRuleLimits.Check(rule), p => p.StartsWith("entityMappings[0] (ApiKey): 'ApiKey' is not a Sentinel entity type", StringComparison.Ordinal));
    }

    [Fact]
    public void IdentifierOfAnotherEntityTypeIsRefused()
    {
        var rule = ValidRule() with { EntityMappings = [new SentinelEntityMapping("IP", [("Url", "CallerIpAddress")])] };

        Assert.Contains(SentinelRuleLimits.Check(rule), p => p.StartsWith("entityMappings[0] (IP): 'Url' is not an identifier of IP", StringComparison.Ordinal));
    }

    [Fact]
    public void EntityWithoutAStrongIdentifierIsRefused()
    {
        var rule = ValidRule() with { EntityMappings = [new SentinelEntityMapping("Account", [("UPNSuffix", "UserPrincipalName")])] };

        Assert.Contains(SentinelRuleLimits.Check(rule), p => p.StartsWith("entityMappings[0] (Account) maps none of the identifiers", StringComparison.Ordinal));
    }

    [Fact]
    public void EntityColumnMissingFromResultsIsRefused()
    {
        var rule = ValidRule() with { EntityMappings = [new SentinelEntityMapping("IP", [("Address", "ClientIP")])] };

        Assert.Contains("entityMappings[0] (IP).Address: column 'ClientIP' is not among the query's result columns", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void TwentyOneCustomDetailsAreRefused()
    {
        var rule = ValidRule() with { CustomDetails = [.. Enumerable.Range(1, 21).Select(i => ($"Detail{i}", "RequestCount"))] };

        Assert.Contains("customDetails has 21 entries; Sentinel allows at most 20", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void CustomDetailKeyWithDashIsRefused()
    {
        var rule = ValidRule() with { CustomDetails = [("request-count", "RequestCount")] };

        var problem = Assert.Single(SentinelRuleLimits.Check(rule));
        Assert.StartsWith("customDetails key 'request-count' must be a letter then letters, digits or _", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CustomDetailKeyOfTwentyOneCharactersIsRefused()
    {
        var rule = ValidRule() with { CustomDetails = [(new string('K', 21), "RequestCount")] };

        Assert.Single(SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void CustomDetailColumnMissingFromResultsIsRefused()
    {
        var rule = ValidRule() with { CustomDetails = [("Requests", "Count")] };

        Assert.Contains("customDetails.Requests: column 'Count' is not among the query's result columns", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void FourPlaceholdersInAlertNameAreRefused()
    {
        var rule = ValidRule() with { AlertDisplayNameFormat = "{{UserPrincipalName}} {{CallerIpAddress}} {{AppId}} {{ResourceId}}" };

        var problem = Assert.Single(SentinelRuleLimits.Check(rule));
        Assert.Equal("alertDisplayNameFormat has 4 {{Column}} placeholders; Sentinel allows at most 3", problem);
    }

    [Fact]
    public void RepeatedPlaceholderCountsEachTime()
    {
        // Azure-Sentinel's MaxAmountOfDynamicContentPlaceHolders counts matches, not distinct columns.
        var rule = ValidRule() with { AlertDescriptionFormat = "{{AppId}} {{AppId}} {{AppId}} {{AppId}}" };

        Assert.Contains("alertDescriptionFormat has 4 {{Column}} placeholders; Sentinel allows at most 3", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void PlaceholderThatIsNotAResultColumnIsRefused()
    {
        var rule = ValidRule() with { AlertDisplayNameFormat = "Key used by {{Caller}}" };

        Assert.Contains("alertDisplayNameFormat: placeholder {{Caller}} is not among the query's result columns", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void AlertNameOver256CharactersIsRefused()
    {
        var rule = ValidRule() with { AlertDisplayNameFormat = new string('a', 257) };

        Assert.Contains("alertDisplayNameFormat is 257 characters; Sentinel allows at most 256", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void EmptyAlertNameIsRefused()
    {
        var rule = ValidRule() with { AlertDisplayNameFormat = "" };

        Assert.Contains("alertDisplayNameFormat is empty; Sentinel needs 1 to 256 characters", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void AlertDescriptionOver5000CharactersIsRefused()
    {
        var rule = ValidRule() with { AlertDescriptionFormat = new string('a', 5001) };

        Assert.Contains("alertDescriptionFormat is 5001 characters; Sentinel allows at most 5000", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void AttackTacticNameWithSpaceIsRefused()
    {
        var rule = ValidRule() with { Tactics = ["Credential Access"] };

        Assert.Contains(SentinelRuleLimits.Check(rule), p => p.StartsWith("tactics: 'Credential Access' is not a Sentinel tactic", StringComparison.Ordinal));
    }

    [Fact]
    public void IcsTacticsUseSentinelNames()
    {
        var rule = ValidRule() with { Tactics = ["ImpairProcessControl", "InhibitResponseFunction"] };

        Assert.Empty(SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void MalformedTechniqueIdIsRefused()
    {
        var rule = ValidRule() with { RelevantTechniques = ["T1078.4"] };

        Assert.Contains("relevantTechniques: 'T1078.4' is not an ATT&CK technique id like T1078 or T1078.004", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void VersionWithTwoPartsIsRefused()
    {
        var rule = ValidRule() with { Version = "1.0" };

        Assert.Single(SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void NameOver256CharactersIsRefused()
    {
        var rule = ValidRule() with { Name = new string('n', 257) };

        Assert.Contains("name is 257 characters; Sentinel allows at most 256", SentinelRuleLimits.Check(rule));
    }

    [Fact]
    public void DescriptionOver5000CharactersIsRefused()
    {
        var rule = ValidRule() with { Description = new string('d', 5001) };

        Assert.Contains("description is 5001 characters; Sentinel allows at most 5000", SentinelRuleLimits.Check(rule));
    }
}
