using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse validate</c>: every check of the build, nothing written.</summary>
public sealed class ValidateCommand : Command<RulesSettings>
{
    public override int Execute(CommandContext context, RulesSettings settings, CancellationToken cancellationToken)
    {
        var (rules, root) = settings.Resolve();
        var console = AnsiConsole.Console;
        var build = Reporter.Build(console, root, rules);
        Reporter.Print(Console.Out, build.Diagnostics);
        var errors = build.Diagnostics.Count(d => d.Severity == Diagnostics.DiagnosticSeverity.Error);
        if (errors > 0)
        {
            var files = build.Diagnostics.Where(d => d.Severity == Diagnostics.DiagnosticSeverity.Error).Select(d => d.Position.File).Distinct(StringComparer.Ordinal).Count();
            console.MarkupLine($"[red]{errors} problem(s)[/] in {files} file(s); {build.Rules.Length} rule(s) compiled.");
            return ExitCodes.Findings;
        }
        console.MarkupLine($"[green]ok[/]: {build.Rules.Length} rule(s) valid for Sentinel, Elastic and Sigma.");
        return ExitCodes.Ok;
    }
}
