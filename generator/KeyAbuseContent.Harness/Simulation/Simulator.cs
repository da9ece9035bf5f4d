using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>How far the writing is: days of the run written and events so far.</summary>
public readonly record struct SimulationProgress(int Day, int Days, long Events);

/// <summary>What a simulation wrote.</summary>
public sealed record SimulationResult(
    string Folder,
    long Events,
    long CompressedBytes,
    ImmutableArray<Datasets.AttackLabel> Labels,
    ImmutableArray<SkippedScenario> Skipped,
    int Keys);

/// <summary>
/// Writes a planned simulation as a DESIGN.md dataset folder: <c>events.jsonl.gz</c>, <c>inventory.yaml</c>,
/// <c>labels.json</c>, <c>geo.csv</c> and a <c>README.md</c>. Events are generated a minute at a time across
/// keys, merged with the attacks' events in time order, written as JSON straight into byte buffers and
/// compressed on a second thread. The same plan gives the same bytes: gzip at a fixed level with a zero
/// modification time.
/// </summary>
public static class Simulator
{
    public const string EventsFile = "events.jsonl.gz";
    public const string InventoryFile = "inventory.yaml";
    public const string LabelsFile = "labels.json";
    public const string GeoFile = "geo.csv";
    public const string ReadmeFile = "README.md";

    /// <summary>The zlib level of <c>events.jsonl.gz</c>: fixed, so the bytes repeat; the fastest, so a million events take seconds.</summary>
    public const int CompressionLevel = 1;

    private const int ChunkBytes = 1 << 20;

    /// <summary>Plans and writes a simulation into a folder (created when missing; the five files are replaced).</summary>
    public static SimulationResult Run(SimulationOptions options, string folder, Action<SimulationProgress>? progress = null) =>
        Write(SimulationPlan.Create(options), folder, progress);

    /// <summary>Writes a planned simulation into a folder.</summary>
    public static SimulationResult Write(SimulationPlan plan, string folder, Action<SimulationProgress>? progress = null)
    {
        Directory.CreateDirectory(folder);
        var (events, bytes) = WriteEvents(plan, Path.Combine(folder, EventsFile), progress);
        File.WriteAllText(Path.Combine(folder, InventoryFile), InventoryWriter.Write(plan), Utf8);
        File.WriteAllBytes(Path.Combine(folder, LabelsFile), Labels(plan));
        File.WriteAllText(Path.Combine(folder, GeoFile), Geo(), Utf8);
        var result = new SimulationResult(folder, events, bytes, [.. plan.Attacks.Select(a => a.Label)], plan.Skipped, plan.Keys.Length);
        File.WriteAllText(Path.Combine(folder, ReadmeFile), SimulationReadme.Write(plan, result), Utf8);
        return result;
    }

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private static (long Events, long Bytes) WriteEvents(SimulationPlan plan, string path, Action<SimulationProgress>? progress)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var chunks = new BlockingCollection<(byte[] Data, int Length)>(boundedCapacity: 8);
        using var failed = new CancellationTokenSource();
        var compressor = Task.Factory.StartNew(() => Compress(chunks, file, failed), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        long events = 0;
        try
        {
            events = Generate(plan, chunks, progress, failed.Token);
        }
        catch (OperationCanceledException) when (failed.IsCancellationRequested)
        {
            // The compressor failed; its exception is the one to report.
        }
        finally
        {
            chunks.CompleteAdding();
        }
        compressor.GetAwaiter().GetResult();
        return (events, file.Length);
    }

    private static void Compress(BlockingCollection<(byte[] Data, int Length)> chunks, FileStream file, CancellationTokenSource failed)
    {
        try
        {
            var zlib = new ZLibCompressionOptions { CompressionLevel = CompressionLevel, CompressionStrategy = ZLibCompressionStrategy.Default };
            using (var gzip = new GZipStream(file, zlib, leaveOpen: true))
            {
                foreach (var (data, length) in chunks.GetConsumingEnumerable())
                {
                    gzip.Write(data, 0, length);
                    ArrayPool<byte>.Shared.Return(data);
                }
            }
            file.Flush();
        }
        catch
        {
            // Unblock the generator, which may be waiting for room in the queue.
            failed.Cancel();
            throw;
        }
    }

    private static long Generate(SimulationPlan plan, BlockingCollection<(byte[] Data, int Length)> chunks, Action<SimulationProgress>? progress, CancellationToken failed)
    {
        var writer = new EventLineWriter(plan.Literals);
        var minute = new EventBuffer();
        var cursors = new int[plan.Attacks.Length];
        var days = plan.Options.Days;
        long events = 0;
        for (var m = 0; m < days * 1440; m++)
        {
            var t0 = plan.StartMs + (m * 60_000L);
            var t1 = t0 + 60_000;
            minute.Clear();
            foreach (var key in plan.Keys)
            {
                key.AppendMinute(minute, t0, m);
            }
            for (var a = 0; a < plan.Attacks.Length; a++)
            {
                var injected = plan.Attacks[a].Events.Items;
                while (cursors[a] < injected.Length && injected[cursors[a]].Time < t1)
                {
                    minute.Add(injected[cursors[a]++]);
                }
            }
            minute.Sort();
            foreach (ref readonly var e in minute.Items)
            {
                writer.Write(e);
            }
            events += minute.Count;
            if (writer.Length >= ChunkBytes)
            {
                Hand(writer, chunks, failed);
            }
            if ((m + 1) % 1440 == 0)
            {
                progress?.Invoke(new SimulationProgress((m + 1) / 1440, days, events));
            }
        }
        Hand(writer, chunks, failed);
        return events;
    }

    private static void Hand(EventLineWriter writer, BlockingCollection<(byte[] Data, int Length)> chunks, CancellationToken failed)
    {
        if (writer.Length == 0)
        {
            return;
        }
        var data = ArrayPool<byte>.Shared.Rent(writer.Length);
        writer.Written.CopyTo(data);
        chunks.Add((data, writer.Length), failed);
        writer.Clear();
    }

    private static byte[] Labels(SimulationPlan plan)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var attack in plan.Attacks)
            {
                json.WriteStartObject();
                json.WriteString("scenario", attack.Scenario.Name);
                json.WriteString("key_id", attack.Victim.Id);
                json.WriteString("start", EventLineWriter.Iso(attack.FirstMs));
                json.WriteString("end", EventLineWriter.Iso(attack.LastMs));
                json.WriteStartArray("addresses");
                foreach (var address in attack.Addresses)
                {
                    json.WriteStringValue(address);
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    private static string Geo()
    {
        var text = new StringBuilder("network,country,asn\n");
        foreach (var n in AddressPlan.Networks)
        {
            text.Append(n.Cidr).Append(',').Append(n.Country).Append(',').Append(n.Asn.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        return text.ToString();
    }
}
