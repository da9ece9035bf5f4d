using System.ComponentModel;
using KeyAbuseContent.Build;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse build</c>: validate, then write the bundle.</summary>
public sealed class BuildCommand : Command<BuildCommand.Settings>
{
    public sealed class Settings : RulesSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("Where the bundle goes (sentinel/, elastic/, sigma/, REPORT.md). Default: dist")]
        [DefaultValue("dist")]
        public string Out { get; init; } = "dist";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (rules, root) = settings.Resolve();
        var console = AnsiConsole.Console;
        var build = Reporter.Build(console, root, rules);
        Reporter.Print(Console.Out, build.Diagnostics);
        if (!build.Succeeded)
        {
            console.MarkupLine($"[red]build failed[/]: nothing was written to {Markup.Escape(settings.Out)}.");
            return ExitCodes.Findings;
        }
        PackWriter.Write(build, settings.Out);
        var sigma = build.Rules.Count(r => r.Sigma.Yaml is not null);
        console.MarkupLine($"[green]built[/] {build.Rules.Length} rule(s) into {Markup.Escape(settings.Out)}: Sentinel {build.Rules.Length}, Elastic {build.Rules.Length}, Sigma {sigma} (see REPORT.md).");
        return ExitCodes.Ok;
    }
}
