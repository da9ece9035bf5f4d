using System.ComponentModel;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary>The options of the verbs that judge the library by its test results: coverage and bundle.</summary>
public class TestedRulesSettings : RulesSettings
{
    [CommandOption("--datasets <DIR>")]
    [Description("Where the datasets the rules' tests name are. Default: test-data")]
    [DefaultValue("test-data")]
    public string Datasets { get; init; } = "test-data";

    [CommandOption("--results <FILE>")]
    [Description("Read the test results `keyabuse test --results FILE` wrote instead of running the tests; a rule whose file, queries, datasets or build changed since is stale and does not count")]
    public string? Results { get; init; }

    [CommandOption("--response <FILE>")]
    [Description("The response evidence `keyabuse run --respond --evidence FILE` wrote, for the checks quota-clamp and time-to-detect; missing or stale evidence satisfies neither. Default: TestResults/response.json")]
    [DefaultValue("TestResults/response.json")]
    public string Response { get; init; } = "TestResults/response.json";
}
