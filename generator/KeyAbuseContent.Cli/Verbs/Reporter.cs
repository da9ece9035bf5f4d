using KeyAbuseContent.Build;
using KeyAbuseContent.Diagnostics;
using Spectre.Console;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary>Prints diagnostics as <c>file:line:col: message</c>, one a line, as editors and CI logs read them.</summary>
public static class Reporter
{
    /// <summary>Diagnostics go to the plain output, one unwrapped line each, whatever the terminal's width.</summary>
    public static void Print(TextWriter output, IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var d in diagnostics.OrderBy(d => d.Position.File, StringComparer.Ordinal).ThenBy(d => d.Position.Line).ThenBy(d => d.Position.Column))
        {
            output.WriteLine(d.ToString());
        }
    }

    /// <summary>Runs a build with a status display of its steps.</summary>
    public static PackBuild Build(IAnsiConsole console, string repoRoot, string rulesDir)
    {
        PackBuild? result = null;
        console.Status().Start("loading rules", ctx =>
        {
            result = new PackBuilder(repoRoot, rulesDir, progress: new StatusProgress(ctx)).Build();
        });
        return result!;
    }

    private sealed class StatusProgress(StatusContext context) : IBuildProgress
    {
        public void Report(string description) => context.Status(description);
    }
}
