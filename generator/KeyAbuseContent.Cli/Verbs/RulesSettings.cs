using System.ComponentModel;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary>The options every verb that reads the rule library has.</summary>
public class RulesSettings : CommandSettings
{
    [CommandOption("--rules <DIR>")]
    [Description("The rule library: a folder with threat-model.yaml, schema/, reference/ and one folder per domain. Default: detections")]
    [DefaultValue("detections")]
    public string Rules { get; init; } = "detections";

    /// <summary>The rules folder, checked; and the repository root (where tools/ and test-data/ are).</summary>
    public (string RulesDir, string RepoRoot) Resolve()
    {
        var rules = Path.GetFullPath(Rules);
        if (!Directory.Exists(rules))
        {
            throw new BadInputException($"the rules folder '{Rules}' does not exist (run from the repository root, or pass --rules)");
        }
        if (!File.Exists(Path.Combine(rules, "schema", "rule.schema.json")))
        {
            throw new BadInputException($"'{Rules}' is not a rule library: it has no schema/rule.schema.json");
        }
        var root = new DirectoryInfo(rules);
        for (var d = root; d is not null; d = d.Parent)
        {
            if (Directory.Exists(Path.Combine(d.FullName, "tools", "kql-check")))
            {
                return (rules, d.FullName);
            }
        }
        return (rules, root.Parent?.FullName ?? rules);
    }
}
