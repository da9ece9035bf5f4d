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

    public bool Sentinel => Target is "all" or "sentinel";

    public bool Elastic => Target is "all" or "elastic";

    public override ValidationResult Validate() =>
        Target is "all" or "sentinel" or "elastic" ? ValidationResult.Success() : ValidationResult.Error($"--target '{Target}': sentinel, elastic or all");
}
