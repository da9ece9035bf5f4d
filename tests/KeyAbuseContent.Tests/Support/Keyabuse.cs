using System.Diagnostics;

namespace KeyAbuseContent.Tests.Support;

/// <summary>The keyabuse program as a user runs it: a child process, its output and exit code.</summary>
public static class Keyabuse
{
    /// <summary>The result of one run: exit code, standard output and standard error.</summary>
    public sealed record Result(int Exit, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    /// <summary>Runs <c>keyabuse ARGS</c> in <paramref name="workingDirectory"/> (the current one when null), 400 columns wide.</summary>
    public static Result Run(string? workingDirectory, params string[] args) => RunWith(new Dictionary<string, string>(), workingDirectory, args);

    /// <summary>Runs <c>keyabuse ARGS</c> with these environment variables set besides the inherited ones.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string> environment, string? workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "keyabuse.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["COLUMNS"] = "400";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new Result(process.ExitCode, output.Result, error.Result);
    }
}
