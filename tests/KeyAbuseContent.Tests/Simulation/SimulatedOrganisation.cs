using System.Globalization;
using System.IO.Compression;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Simulation;

namespace KeyAbuseContent.Tests.Simulation;

/// <summary>The fields of an event line the tests look at.</summary>
public sealed record EventLine(DateTime Time, string KeyId, string RequestId, string Country, long Asn);

/// <summary>
/// One simulation shared by a test class, the organisation of <c>make test</c>: 16 days (the shortest run with every
/// scenario), the seven services (the LiteLLM-proxied one included) with one production key each, written once. Its events are read with a light scanner of the simulator's
/// own line layout: the dataset loader's full parse of 450,000 lines would take most of the test run (the
/// loader itself is tested on a smaller run).
/// </summary>
public sealed class SimulatedOrganisation : IDisposable
{
    public static readonly SimulationOptions Options = new() { Days = 16, Services = 7, KeysPerService = 1, Seed = 7 };

    public SimulatedOrganisation()
    {
        Plan = SimulationPlan.Create(Options);
        Result = Simulator.Write(Plan, Scratch.Path);
        Events = [.. ReadLines(Path.Combine(Folder, Simulator.EventsFile)).Select(Scan)];
        // Everything but the events, through the loader.
        var meta = Scratch.Sub("meta");
        Directory.CreateDirectory(meta);
        foreach (var file in new[] { Simulator.InventoryFile, Simulator.LabelsFile, Simulator.GeoFile })
        {
            File.Copy(Path.Combine(Folder, file), Path.Combine(meta, file));
        }
        Metadata = DatasetLoader.Load(meta);
    }

    public ScratchFolder Scratch { get; } = new();
    public string Folder => Scratch.Path;
    public SimulationPlan Plan { get; }
    public SimulationResult Result { get; }
    public IReadOnlyList<EventLine> Events { get; }

    /// <summary>The inventory, labels and geo table as the loader reads them.</summary>
    public Dataset Metadata { get; }

    /// <summary>The request ids of every injected event, by attack.</summary>
    public IEnumerable<(InjectedAttack Attack, HashSet<string> RequestIds)> Injected =>
        Plan.Attacks.Select(a => (a, a.Events.Items.ToArray().Select(e => EventLineWriter.RequestId(e.RequestId)).ToHashSet(StringComparer.Ordinal)));

    public static IEnumerable<string> ReadLines(string path)
    {
        using var file = File.OpenRead(path);
        using var reader = new StreamReader(new GZipStream(file, CompressionMode.Decompress));
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    private static EventLine Scan(string line) => new(
        DateTime.Parse(Field(line, "time"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal),
        Field(line, "key_id"), Field(line, "request_id"), Field(line, "country"), long.Parse(Field(line, "asn"), CultureInfo.InvariantCulture));

    private static string Field(string line, string name)
    {
        var at = line.IndexOf("\"" + name + "\":", StringComparison.Ordinal) + name.Length + 3;
        if (line[at] == '"')
        {
            return line[(at + 1)..line.IndexOf('"', at + 1)];
        }
        var end = line.IndexOfAny([',', '}'], at);
        return line[at..end];
    }

    public void Dispose() => Scratch.Dispose();
}

/// <summary>A temporary folder for one test's own simulation.</summary>
public sealed class ScratchFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "keyabuse-sim-" + Guid.NewGuid().ToString("N"));

    /// <summary>A sub-folder path (not created).</summary>
    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
