namespace KeyAbuseContent.Diagnostics;

/// <summary>The codes diagnostics carry, so a test or a CI log can name a class of problem.</summary>
public static class DiagnosticCodes
{
    public const string YamlSyntax = "KA1001";
    public const string DuplicateKey = "KA1002";
    public const string UnsupportedYaml = "KA1003";
    public const string Schema = "KA1101";
    public const string UnknownField = "KA1102";
    public const string MissingField = "KA1103";
    public const string UnknownKind = "KA1104";
    public const string DuplicateId = "KA1201";
    public const string DuplicateName = "KA1202";
    public const string UnknownTag = "KA1203";
    public const string UnknownThreat = "KA1204";
    public const string UnknownSourceField = "KA1205";
    public const string BadDate = "KA1206";
    public const string FileName = "KA1207";
    public const string UnknownDataset = "KA1208";
    public const string Expression = "KA1301";
    public const string ExpressionType = "KA1302";
    public const string Untranslatable = "KA1303";
    public const string Template = "KA1304";
    public const string Kind = "KA1305";
    public const string KqlCheck = "KA1401";
    public const string SentinelLimit = "KA1402";
    public const string ElasticSchema = "KA1403";
    public const string SigmaSchema = "KA1404";
    public const string ToolMissing = "KA1501";
    public const string ThreatModel = "KA1601";
    public const string VersionNotRaised = "KA1701";
    public const string Release = "KA1702";
}
