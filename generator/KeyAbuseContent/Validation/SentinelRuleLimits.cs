using System.Collections.Frozen;
using System.Globalization;
using System.Text.RegularExpressions;
using KeyAbuseContent.Targets.Sentinel;

namespace KeyAbuseContent.Validation;

/// <summary>
/// The limits Azure-Sentinel's own CI enforces on a scheduled analytics rule template
/// (<c>.script/tests/detectionTemplateSchemaValidation</c> in Azure/Azure-Sentinel), checked on the
/// record before it is rendered, so a rule that Sentinel's CI or API would refuse fails our build first.
/// </summary>
public static partial class SentinelRuleLimits
{
    public static readonly TimeSpan MinQueryInterval = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxQueryInterval = TimeSpan.FromDays(14);
    public static readonly TimeSpan LongQueryPeriod = TimeSpan.FromDays(2);
    public static readonly TimeSpan MinFrequencyForLongPeriod = TimeSpan.FromHours(1);
    public const int MaxTriggerThreshold = 10_000;
    public const int MaxQueryLength = 10_000;
    public const int MaxNameLength = 256;
    public const int MaxDescriptionLength = 5_000;
    public const int MaxEntityMappings = 10;
    public const int MaxFieldMappings = 3;
    public const int MaxColumnNameLength = 500;
    public const int MaxCustomDetails = 20;
    public const int MaxCustomDetailKeyLength = 20;
    public const int MaxAlertDisplayNameLength = 256;
    public const int MaxAlertDescriptionLength = 5_000;
    public const int MaxPlaceholders = 3;
    public const int MaxVersionLength = 20;

    private static readonly FrozenSet<string> Severities =
        FrozenSet.ToFrozenSet(["Informational", "Low", "Medium", "High"], StringComparer.Ordinal);

    // Azure-Sentinel's converter reads the short form and the enum names alike.
    private static readonly FrozenSet<string> TriggerOperators =
        FrozenSet.ToFrozenSet(["gt", "lt", "eq", "ne", "GreaterThan", "LessThan", "Equal", "NotEqual"], StringComparer.Ordinal);

    private static readonly FrozenSet<string> Kinds = FrozenSet.ToFrozenSet(["Scheduled", "NRT"], StringComparer.Ordinal);

    private static readonly FrozenSet<string> AggregationKinds =
        FrozenSet.ToFrozenSet(["AlertPerResult", "SingleAlert"], StringComparer.Ordinal);

    private static readonly FrozenSet<string> Tactics = FrozenSet.ToFrozenSet(
    [
        "Reconnaissance", "ResourceDevelopment", "InitialAccess", "Execution", "Persistence", "PrivilegeEscalation",
        "DefenseEvasion", "CredentialAccess", "Discovery", "LateralMovement", "Collection", "CommandAndControl",
        "Exfiltration", "Impact", "ImpairProcessControl", "InhibitResponseFunction",
    ], StringComparer.Ordinal);

    /// <summary>An entity type's valid identifiers and the identifier sets of which one must be mapped.</summary>
    private sealed record EntityIdentifiers(string[] Identifiers, string[][] RequiredOneOf);

    // Azure-Sentinel's EntityMappingIdentifiers.EntityIdentifiersMap, type by type.
    private static readonly FrozenDictionary<string, EntityIdentifiers> Entities = new Dictionary<string, EntityIdentifiers>(StringComparer.Ordinal)
    {
        ["Account"] = new(
            ["Name", "FullName", "NTDomain", "DnsDomain", "UPNSuffix", "Sid", "AadTenantId", "AadUserId", "PUID", "IsDomainJoined", "DisplayName", "ObjectGuid"],
            [["FullName"], ["Sid"], ["Name"], ["AadUserId"], ["PUID"], ["ObjectGuid"]]),
        ["AzureResource"] = new(["ResourceId"], [["ResourceId"]]),
        ["CloudApplication"] = new(["AppId", "Name", "InstanceName"], [["AppId"], ["Name"]]),
        ["DNS"] = new(["DomainName"], [["DomainName"]]),
        ["File"] = new(["Directory", "Name"], [["Name"]]),
        ["FileHash"] = new(["Algorithm", "Value"], [["Algorithm", "Value"]]),
        ["Host"] = new(
            ["DnsDomain", "NTDomain", "HostName", "FullName", "NetBiosName", "AzureID", "OMSAgentID", "OSFamily", "OSVersion", "IsDomainJoined"],
            [["FullName"], ["HostName"], ["NetBiosName"], ["AzureID"], ["OMSAgentID"]]),
        ["IoTDevice"] = new(
            ["DeviceId", "DeviceName", "Manufacturer", "Model", "FirmwareVersion", "OperatingSystem", "MacAddress", "Protocols", "SerialNumber", "Source", "IoTSecurityAgentId", "DeviceType"],
            [["DeviceId"]]),
        ["IP"] = new(["Address"], [["Address"]]),
        ["Mailbox"] = new(["MailboxPrimaryAddress", "DisplayName", "Upn", "ExternalDirectoryObjectId", "RiskLevel"], [["MailboxPrimaryAddress"]]),
        ["MailCluster"] = new(
            ["NetworkMessageIds", "CountByDeliveryStatus", "CountByThreatType", "CountByProtectionStatus", "Threats", "Query", "QueryTime", "MailCount", "IsVolumeAnomaly", "Source", "ClusterSourceIdentifier", "ClusterSourceType", "ClusterQueryStartTime", "ClusterQueryEndTime", "ClusterGroup"],
            [["Query"], ["Source"]]),
        ["MailMessage"] = new(
            ["Recipient", "Urls", "Threats", "Sender", "P1Sender", "P1SenderDisplayName", "P1SenderDomain", "SenderIP", "P2Sender", "P2SenderDisplayName", "P2SenderDomain", "ReceivedDate", "NetworkMessageId", "InternetMessageId", "Subject", "BodyFingerprintBin1", "BodyFingerprintBin2", "BodyFingerprintBin3", "BodyFingerprintBin4", "BodyFingerprintBin5", "AntispamDirection", "DeliveryAction", "DeliveryLocation", "Language", "ThreatDetectionMethods"],
            [["NetworkMessageId"], ["Recipient"]]),
        ["Malware"] = new(["Name", "Category"], [["Name"]]),
        ["Process"] = new(["ProcessId", "CommandLine", "ElevationToken", "CreationTimeUtc"], [["CommandLine"], ["ProcessId"]]),
        ["RegistryKey"] = new(["Hive", "Key"], [["Key"], ["Hive"]]),
        ["RegistryValue"] = new(["Name", "Value", "ValueType"], [["Name"]]),
        ["SecurityGroup"] = new(["DistinguishedName", "SID", "ObjectGuid"], [["DistinguishedName"], ["SID"], ["ObjectGuid"]]),
        ["SubmissionMail"] = new(
            ["NetworkMessageId", "Timestamp", "Recipient", "Sender", "SenderIp", "Subject", "ReportType", "SubmissionId", "SubmissionDate", "Submitter"],
            [["SubmissionId"], ["NetworkMessageId"], ["Recipient"], ["Submitter"]]),
        ["URL"] = new(["Url"], [["Url"]]),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every limit <paramref name="rule"/> breaks, in plain English; empty when it is within all of them.</summary>
    public static IReadOnlyList<string> Check(SentinelAnalyticsRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var problems = new List<string>();
        var columns = rule.ResultColumns.IsDefault
            ? FrozenSet<string>.Empty
            : rule.ResultColumns.ToFrozenSet(StringComparer.Ordinal);

        CheckText(rule, problems);
        CheckSchedule(rule, problems);
        CheckEntityMappings(rule, columns, problems);
        CheckCustomDetails(rule, columns, problems);
        CheckAlertFormat("alertDisplayNameFormat", rule.AlertDisplayNameFormat, MaxAlertDisplayNameLength, columns, problems);
        CheckAlertFormat("alertDescriptionFormat", rule.AlertDescriptionFormat, MaxAlertDescriptionLength, columns, problems);
        CheckAttack(rule, problems);
        return problems;
    }

    private static void CheckText(SentinelAnalyticsRule rule, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(rule.Name))
        {
            problems.Add("name is empty");
        }
        else if (rule.Name.Length > MaxNameLength)
        {
            problems.Add($"name is {rule.Name.Length} characters; Sentinel allows at most {MaxNameLength}");
        }
        if (rule.Description.Length > MaxDescriptionLength)
        {
            problems.Add($"description is {rule.Description.Length} characters; Sentinel allows at most {MaxDescriptionLength}");
        }
        if (string.IsNullOrWhiteSpace(rule.Query))
        {
            problems.Add("query is empty");
        }
        else if (rule.Query.Length > MaxQueryLength)
        {
            problems.Add($"query is {rule.Query.Length} characters; Sentinel allows at most {MaxQueryLength}");
        }
        if (!Severities.Contains(rule.Severity))
        {
            problems.Add($"severity '{rule.Severity}' is not one of Informational, Low, Medium, High (Sentinel has no Critical)");
        }
        if (!Kinds.Contains(rule.Kind))
        {
            problems.Add($"kind '{rule.Kind}' is not Scheduled or NRT");
        }
        if (!AggregationKinds.Contains(rule.EventGroupingAggregationKind))
        {
            problems.Add($"eventGroupingSettings.aggregationKind '{rule.EventGroupingAggregationKind}' is not AlertPerResult or SingleAlert");
        }
        if (rule.Version.Length > MaxVersionLength || !VersionPattern().IsMatch(rule.Version))
        {
            problems.Add($"version '{rule.Version}' is not of the form x.y.z (numbers, at most {MaxVersionLength} characters)");
        }
    }

    private static void CheckSchedule(SentinelAnalyticsRule rule, List<string> problems)
    {
        if (rule.Kind != "Scheduled")
        {
            // NRT rules have no schedule of their own.
            return;
        }
        CheckInterval("queryFrequency", rule.QueryFrequency, problems);
        CheckInterval("queryPeriod", rule.QueryPeriod, problems);
        if (rule.QueryPeriod < rule.QueryFrequency)
        {
            problems.Add($"queryPeriod {Show(rule.QueryPeriod)} is shorter than queryFrequency {Show(rule.QueryFrequency)}; the period must cover at least one interval");
        }
        if (rule.QueryPeriod >= LongQueryPeriod && rule.QueryFrequency < MinFrequencyForLongPeriod)
        {
            problems.Add($"queryPeriod {Show(rule.QueryPeriod)} needs a queryFrequency of at least {Show(MinFrequencyForLongPeriod)} (it is {Show(rule.QueryFrequency)}); Sentinel requires this for periods of {Show(LongQueryPeriod)} or more");
        }
        if (!TriggerOperators.Contains(rule.TriggerOperator))
        {
            problems.Add($"triggerOperator '{rule.TriggerOperator}' is not one of gt, lt, eq, ne");
        }
        if (rule.TriggerThreshold is < 0 or > MaxTriggerThreshold)
        {
            problems.Add($"triggerThreshold {rule.TriggerThreshold} is outside 0..{MaxTriggerThreshold}");
        }
    }

    private static void CheckInterval(string field, TimeSpan value, List<string> problems)
    {
        if (value < MinQueryInterval || value > MaxQueryInterval)
        {
            problems.Add($"{field} {Show(value)} is outside {Show(MinQueryInterval)}..{Show(MaxQueryInterval)}");
        }
    }

    private static void CheckEntityMappings(SentinelAnalyticsRule rule, FrozenSet<string> columns, List<string> problems)
    {
        var mappings = rule.EntityMappings.IsDefault ? [] : rule.EntityMappings;
        if (mappings.Length is < 1 or > MaxEntityMappings)
        {
            problems.Add($"entityMappings has {mappings.Length} entities; Sentinel allows 1 to {MaxEntityMappings}");
        }
        for (var i = 0; i < mappings.Length; i++)
        {
            var mapping = mappings[i];
            var at = $"entityMappings[{i}] ({mapping.EntityType})";
            var fields = mapping.Fields.IsDefault ? [] : mapping.Fields;
            if (fields.Length is < 1 or > MaxFieldMappings)
            {
                problems.Add($"{at} has {fields.Length} field mappings; Sentinel allows 1 to {MaxFieldMappings}");
            }
            if (!Entities.TryGetValue(mapping.EntityType, out var entity))
            {
                problems.Add($"{at}: '{mapping.EntityType}' is not a Sentinel entity type ({string.Join(", ", Entities.Keys.Order(StringComparer.Ordinal))})");
                entity = null;
            }
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (identifier, column) in fields)
            {
                if (entity is not null && !entity.Identifiers.Contains(identifier, StringComparer.Ordinal))
                {
                    problems.Add($"{at}: '{identifier}' is not an identifier of {mapping.EntityType} (valid: {string.Join(", ", entity.Identifiers)})");
                }
                if (!used.Add(identifier))
                {
                    problems.Add($"{at}: identifier '{identifier}' is mapped more than once");
                }
                CheckColumn($"{at}.{identifier}", column, columns, problems);
            }
            if (entity is not null && fields.Length > 0 && !entity.RequiredOneOf.Any(set => set.All(used.Contains)))
            {
                var options = string.Join(" or ", entity.RequiredOneOf.Select(set => string.Join(" + ", set)));
                problems.Add($"{at} maps none of the identifiers Sentinel needs to identify a {mapping.EntityType}: map {options}");
            }
        }
    }

    private static void CheckColumn(string at, string column, FrozenSet<string> columns, List<string> problems)
    {
        if (column.Length > MaxColumnNameLength || !ColumnPattern().IsMatch(column))
        {
            problems.Add($"{at}: column '{column}' is not a valid column name (a letter or _ then letters, digits or _, at most {MaxColumnNameLength} characters)");
        }
        else if (!columns.Contains(column))
        {
            problems.Add($"{at}: column '{column}' is not among the query's result columns");
        }
    }

    private static void CheckCustomDetails(SentinelAnalyticsRule rule, FrozenSet<string> columns, List<string> problems)
    {
        var details = rule.CustomDetails.IsDefault ? [] : rule.CustomDetails;
        if (details.Length > MaxCustomDetails)
        {
            problems.Add($"customDetails has {details.Length} entries; Sentinel allows at most {MaxCustomDetails}");
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, column) in details)
        {
            if (key.Length > MaxCustomDetailKeyLength || !CustomDetailKeyPattern().IsMatch(key))
            {
                problems.Add($"customDetails key '{key}' must be a letter then letters, digits or _, at most {MaxCustomDetailKeyLength} characters");
            }
            if (!keys.Add(key))
            {
                problems.Add($"customDetails key '{key}' appears more than once");
            }
            CheckColumn($"customDetails.{key}", column, columns, problems);
        }
    }

    private static void CheckAlertFormat(string field, string format, int maxLength, FrozenSet<string> columns, List<string> problems)
    {
        // The template always writes alertDetailsOverride, and Azure-Sentinel refuses an empty format.
        if (string.IsNullOrWhiteSpace(format))
        {
            problems.Add($"{field} is empty; Sentinel needs 1 to {maxLength} characters");
            return;
        }
        if (format.Length > maxLength)
        {
            problems.Add($"{field} is {format.Length} characters; Sentinel allows at most {maxLength}");
        }
        var placeholders = PlaceholderPattern().Matches(format).Select(m => m.Groups[1].Value).ToList();
        if (placeholders.Count > MaxPlaceholders)
        {
            // Azure-Sentinel counts every {{...}}, a repeated column included.
            problems.Add($"{field} has {placeholders.Count} {{{{Column}}}} placeholders; Sentinel allows at most {MaxPlaceholders}");
        }
        foreach (var column in placeholders.Distinct(StringComparer.Ordinal))
        {
            if (!columns.Contains(column))
            {
                problems.Add($"{field}: placeholder {{{{{column}}}}} is not among the query's result columns");
            }
        }
    }

    private static void CheckAttack(SentinelAnalyticsRule rule, List<string> problems)
    {
        foreach (var tactic in rule.Tactics.IsDefault ? [] : rule.Tactics)
        {
            if (!Tactics.Contains(tactic))
            {
                problems.Add($"tactics: '{tactic}' is not a Sentinel tactic ({string.Join(", ", Tactics.Order(StringComparer.Ordinal))})");
            }
        }
        foreach (var technique in rule.RelevantTechniques.IsDefault ? [] : rule.RelevantTechniques)
        {
            if (!TechniquePattern().IsMatch(technique))
            {
                problems.Add($"relevantTechniques: '{technique}' is not an ATT&CK technique id like T1078 or T1078.004");
            }
        }
    }

    /// <summary>A duration the way Sentinel templates write it: 5m, 1h, 3d.</summary>
    internal static string Show(TimeSpan value)
    {
        var c = CultureInfo.InvariantCulture;
        if (value.Ticks % TimeSpan.TicksPerDay == 0 && value.Ticks != 0)
        {
            return ((long)value.TotalDays).ToString(c) + "d";
        }
        if (value.Ticks % TimeSpan.TicksPerHour == 0 && value.Ticks != 0)
        {
            return ((long)value.TotalHours).ToString(c) + "h";
        }
        if (value.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return ((long)value.TotalMinutes).ToString(c) + "m";
        }
        return value.ToString("c", c);
    }

    [GeneratedRegex(@"^\d+\.\d+\.\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ColumnPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex CustomDetailKeyPattern();

    // As Azure-Sentinel's MaxAmountOfDynamicContentPlaceHolders reads them: {{ then no braces then }}.
    [GeneratedRegex(@"\{\{([^{}]*)\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"^T\d{4}(\.\d{3})?$", RegexOptions.CultureInvariant)]
    private static partial Regex TechniquePattern();
}
