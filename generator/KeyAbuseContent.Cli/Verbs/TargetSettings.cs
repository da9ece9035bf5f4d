using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary>The options of the verbs that run rules: the rule library and the targets.</summary>
public class TargetSettings : RulesSettings
{
    [CommandOption("--target <TARGET>")]
    [Description("sentinel, elastic or all. Default: all")]
    [DefaultValue("all")]
    public string Target { get; init; } = "all";

    [CommandOption("--engine <NAME=URL>")]
    [Description("Run the queries on a real engine instead of the embedded executor: kusto=https://CLUSTER/DATABASE (Azure Data Explorer; token in KEYABUSE_KUSTO_TOKEN) or elasticsearch=URL (API key in KEYABUSE_ELASTICSEARCH_API_KEY); may be given once for each. The dataset is loaded into the engine (use a database/cluster of its own), then every scheduled run's query is sent with its clock and window")]
    public string[] Engine { get; init; } = [];

    public bool Sentinel => Target is "all" or "sentinel";

    public bool Elastic => Target is "all" or "elastic";

    public override ValidationResult Validate() =>
        Target is not ("all" or "sentinel" or "elastic") ? ValidationResult.Error($"--target '{Target}': sentinel, elastic or all")
        : EngineOptions.Check(Engine) is { } problem ? ValidationResult.Error(problem)
        : ValidationResult.Success();
}
