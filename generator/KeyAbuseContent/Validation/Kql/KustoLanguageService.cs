using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace KeyAbuseContent.Validation.Kql;

/// <summary>
/// Microsoft's Kusto language service (the Kusto.Language parser and binder, npm package
/// <c>@kusto/language-service-next</c>) run by node on <c>tools/kql-check/check.js</c>, one process a check.
/// </summary>
public sealed class KustoLanguageService
{
    /// <summary>
    /// How long one check may take before its process is killed: node alone takes about two seconds to load the
    /// service and the library's check about four seconds of CPU, but on a shared 2-core machine at load 40 a process
    /// gets a fraction of a core and the check took over two minutes; ten minutes stops only a hung process.
    /// </summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    private const string InstallHint = "run `make tools` (or `npm ci --prefix tools/kql-check`) from the repository root";

    private KustoLanguageService(string nodePath, string scriptPath, TimeSpan timeout)
    {
        NodePath = nodePath;
        ScriptPath = scriptPath;
        Timeout = timeout;
    }

    /// <summary>The node executable found on PATH.</summary>
    public string NodePath { get; }

    /// <summary>The full path of <c>tools/kql-check/check.js</c>.</summary>
    public string ScriptPath { get; }

    public TimeSpan Timeout { get; }

    /// <summary>
    /// Finds node on PATH and the checker of the repository at <paramref name="repoRoot"/>; throws
    /// <see cref="KqlCheckUnavailableException"/> naming everything that is missing.
    /// </summary>
    public static KustoLanguageService Locate(string repoRoot, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(repoRoot);
        var toolFolder = Path.GetFullPath(Path.Combine(repoRoot, "tools", "kql-check"));
        var script = Path.Combine(toolFolder, "check.js");
        var package = Path.Combine(toolFolder, "node_modules", "@kusto", "language-service-next");

        var missing = new List<string>();
        if (!File.Exists(script))
        {
            missing.Add($"{script} does not exist; is '{repoRoot}' the repository root?");
        }
        var node = FindOnPath("node");
        if (node is null)
        {
            missing.Add($"node is not on PATH; install Node.js 20 or newer, then {InstallHint}");
        }
        if (!File.Exists(Path.Combine(package, "Kusto.Language.Bridge.js")))
        {
            missing.Add($"the npm package @kusto/language-service-next is not installed ({package} is missing or incomplete); {InstallHint}");
        }
        if (missing.Count > 0)
        {
            throw new KqlCheckUnavailableException(
                "The Kusto language service cannot run, so KQL queries cannot be checked:\n- " + string.Join("\n- ", missing));
        }
        return new KustoLanguageService(node!, script, timeout ?? DefaultTimeout);
    }

    /// <summary>
    /// Parses and binds every query against the schema, in one node process, and returns the errors
    /// and warnings of all of them, query by query in the order given, each query's by offset.
    /// </summary>
    public IReadOnlyList<KqlCheckFinding> Check(KqlDatabaseSchema schema, IReadOnlyList<KqlQueryToCheck> queries)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(queries);
        if (queries.Count == 0)
        {
            return [];
        }
        var request = JsonSerializer.SerializeToUtf8Bytes(
            new KqlCheckRequest(schema.Tables, schema.Functions, queries), KqlCheckJson.Default.KqlCheckRequest);
        var output = Run(request);
        return Findings(output, queries);
    }

    private string Run(byte[] request)
    {
        var start = new ProcessStartInfo(NodePath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Path.GetDirectoryName(ScriptPath)!,
        };
        start.ArgumentList.Add(ScriptPath);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new KqlCheckUnavailableException($"node ({NodePath}) could not be started: {e.Message}; install Node.js 20 or newer, then {InstallHint}");
        }

        // Both pipes are drained while the request is written, so neither side can block the other.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            process.StandardInput.BaseStream.Write(request);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // node stopped reading: it failed, and its stderr and exit status say why.
        }

        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new KqlCheckFailedException($"the Kusto language service ({ScriptPath}) did not finish within {Timeout.TotalSeconds:0} s and was stopped");
        }
        process.WaitForExit();
        var output = stdout.GetAwaiter().GetResult();
        var errors = stderr.GetAwaiter().GetResult().Trim();
        if (process.ExitCode != 0)
        {
            throw new KqlCheckFailedException(
                $"the Kusto language service ({ScriptPath}) exited with status {process.ExitCode}: {(errors.Length > 0 ? errors : "no message")}");
        }
        return output;
    }

    private IReadOnlyList<KqlCheckFinding> Findings(string output, IReadOnlyList<KqlQueryToCheck> queries)
    {
        KqlCheckResponse? response;
        try
        {
            response = JsonSerializer.Deserialize(output, KqlCheckJson.Default.KqlCheckResponse);
        }
        catch (JsonException e)
        {
            throw new KqlCheckFailedException($"the Kusto language service ({ScriptPath}) wrote output that is not its JSON answer: {e.Message}", e);
        }
        if (response?.Results is not { } results || results.Count != queries.Count)
        {
            throw new KqlCheckFailedException(
                $"the Kusto language service ({ScriptPath}) answered for {response?.Results?.Count ?? 0} queries, not the {queries.Count} asked");
        }

        var findings = new List<KqlCheckFinding>();
        for (var i = 0; i < results.Count; i++)
        {
            var id = queries[i].Id;
            if (results[i].Id != id)
            {
                throw new KqlCheckFailedException(
                    $"the Kusto language service ({ScriptPath}) answered '{results[i].Id}' where '{id}' was expected");
            }
            foreach (var d in results[i].Diagnostics ?? [])
            {
                if (d.Severity is not { } severity || d.Code is not { } code || d.Message is not { } message)
                {
                    throw new KqlCheckFailedException(
                        $"the Kusto language service ({ScriptPath}) gave query '{id}' a diagnostic without a severity, code or message");
                }
                findings.Add(new KqlCheckFinding(id, severity, code, message, d.Start, d.Length));
            }
        }
        return findings;
    }

    private static string? FindOnPath(string program)
    {
        string[] names = OperatingSystem.IsWindows() ? [program + ".exe"] : [program];
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(folder.Trim('"'), name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }
}
