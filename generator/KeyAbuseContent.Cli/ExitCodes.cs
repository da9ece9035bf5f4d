using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli;

/// <summary>The exit codes of every verb: 0 ok, 1 findings or failed tests, 2 bad usage or input.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Findings = 1;
    public const int BadInput = 2;

    /// <summary>Runs the app, turning usage errors into exit code 2 with a readable message.</summary>
    public static int Run(ICommandApp app, string[] args)
    {
        try
        {
            return app.Run(args);
        }
        catch (CommandRuntimeException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return BadInput;
        }
        catch (BadInputException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return BadInput;
        }
        catch (Harness.Engines.RemoteEngineException e)
        {
            // A real engine (--engine) failed or could not be reached: the run stops before writing anything.
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return BadInput;
        }
    }
}

/// <summary>A problem with the command line or its input files, reported with exit code 2.</summary>
public sealed class BadInputException(string message) : Exception(message);
