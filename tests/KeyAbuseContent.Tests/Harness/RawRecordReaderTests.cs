using System.IO.Compression;
using System.Text;
using KeyAbuseContent.Harness.Datasets;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>The bad input of issue 14: each is reported with file, line and reason, and the rest loads.</summary>
public sealed class RawRecordReaderTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "keyabuse-raw-" + Guid.NewGuid().ToString("N"));

    public RawRecordReaderTests() => Directory.CreateDirectory(Path.Combine(_folder, "raw"));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private const string Invocation = """{"schemaType":"ModelInvocationLog","timestamp":"2026-11-23T09:00:00Z","identity":{"arn":"arn:aws:iam::111122223333:user/a"},"modelId":"m","operation":"Converse","requestId":"r1","input":{"inputTokenCount":5}}""";

    private const string Trail = """{"eventTime":"2026-11-23T09:00:00Z","eventSource":"bedrock.amazonaws.com","eventName":"InvokeModel","userIdentity":{"arn":"arn:aws:iam::111122223333:user/a"},"sourceIPAddress":"198.51.100.7"}""";

    private void Raw(string file, params string[] lines) => File.WriteAllText(Path.Combine(_folder, "raw", file), string.Join("\n", lines) + "\n");

    private void Gzip(string file, byte[] content, int keep)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gz.Write(content);
        }
        File.WriteAllBytes(Path.Combine(_folder, "raw", file), buffer.ToArray()[..Math.Min(keep, (int)buffer.Length)]);
    }

    private static DatasetProblem Only(Dataset d) => Assert.Single(d.Problems);

    [Fact]
    public void AValidRecordLoadsWithItsTimeAndSource()
    {
        Raw("bedrock_invocation.jsonl", Invocation);
        var record = Assert.Single(DatasetLoader.Load(_folder).Raw);
        Assert.Equal("bedrock_invocation", record.Source.Name);
        Assert.Equal(new DateTime(2026, 11, 23, 9, 0, 0, DateTimeKind.Utc), record.Time);
    }

    [Fact]
    public void ALineThatIsNotJsonIsReportedWithFileAndLineAndTheRestLoads()
    {
        Raw("bedrock_invocation.jsonl", Invocation, "{not json", Invocation.Replace("r1", "r2", StringComparison.Ordinal));
        var dataset = DatasetLoader.Load(_folder);
        Assert.Equal(2, dataset.Raw.Length);
        var problem = Only(dataset);
        Assert.Equal(2, problem.Line);
        Assert.EndsWith("bedrock_invocation.jsonl", problem.File, StringComparison.Ordinal);
        Assert.StartsWith("not JSON", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingFieldIsReportedByItsPath()
    {
        Raw("bedrock_invocation.jsonl", Invocation.Replace("\"modelId\":\"m\",", "", StringComparison.Ordinal));
        Assert.Equal("missing field 'modelId' (a string)", Only(DatasetLoader.Load(_folder)).Message);
    }

    [Fact]
    public void AMistypedFieldIsReportedWithWhatItIs()
    {
        Raw("bedrock_invocation.jsonl", Invocation.Replace("\"identity\":{\"arn\":\"arn:aws:iam::111122223333:user/a\"}", "\"identity\":\"someone\"", StringComparison.Ordinal));
        Assert.Equal("field 'identity' is a string, expected an object", Only(DatasetLoader.Load(_folder)).Message);
    }

    [Fact]
    public void ATimeWithoutAZoneIsReported()
    {
        Raw("bedrock_invocation.jsonl", Invocation.Replace("09:00:00Z", "09:00:00", StringComparison.Ordinal));
        Assert.Contains("'timestamp' is not a date-time with a zone", Only(DatasetLoader.Load(_folder)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAddressThatIsNotAnIpIsReported()
    {
        Raw("bedrock_cloudtrail.jsonl", Trail.Replace("198.51.100.7", "198.51.100.300", StringComparison.Ordinal), Trail);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Single(dataset.Raw);
        Assert.Equal("field 'sourceIPAddress' '198.51.100.300' is not an IP address", Only(dataset).Message);
    }

    [Fact]
    public void AnUnknownSourceFileIsReportedAndTheKnownOnesLoad()
    {
        Raw("vertex_audit.jsonl", "{}");
        Raw("bedrock_cloudtrail.jsonl", Trail);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Single(dataset.Raw);
        var problem = Only(dataset);
        Assert.EndsWith("vertex_audit.jsonl", problem.File, StringComparison.Ordinal);
        Assert.StartsWith("unknown source file", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownSourceFolderIsReported()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "raw", "cloudtrail"));
        Raw("bedrock_cloudtrail.jsonl", Trail);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Single(dataset.Raw);
        Assert.StartsWith("unknown source folder", Only(dataset).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATruncatedGzipFileKeepsTheRecordsBeforeTheCutAndIsReported()
    {
        var lines = Enumerable.Range(0, 200).Select(i => Invocation.Replace("\"r1\"", $"\"r{i}\"", StringComparison.Ordinal));
        var content = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
        Gzip("bedrock_invocation.jsonl.gz", content, int.MaxValue);
        var whole = new FileInfo(Path.Combine(_folder, "raw", "bedrock_invocation.jsonl.gz")).Length;
        Gzip("bedrock_invocation.jsonl.gz", content, (int)(whole * 2 / 3));
        var dataset = DatasetLoader.Load(_folder);
        Assert.InRange(dataset.Raw.Length, 1, 199);
        Assert.Contains(dataset.Problems, p => p.Message.Contains("gzip", StringComparison.Ordinal) && p.File.EndsWith(".jsonl.gz", StringComparison.Ordinal));
    }

    [Fact]
    public void AWholeGzipFileLoadsWithoutProblems()
    {
        Gzip("bedrock_invocation.jsonl.gz", Encoding.UTF8.GetBytes(Invocation + "\n"), int.MaxValue);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Single(dataset.Raw);
        Assert.Empty(dataset.Problems);
    }

    [Fact]
    public void RawRecordsSetTheDatasetSpan()
    {
        Raw("bedrock_cloudtrail.jsonl", Trail, Trail.Replace("09:00:00Z", "11:30:00Z", StringComparison.Ordinal));
        Assert.Equal((new DateTime(2026, 11, 23, 9, 0, 0, DateTimeKind.Utc), new DateTime(2026, 11, 23, 11, 30, 0, DateTimeKind.Utc)), DatasetLoader.Load(_folder).Span);
    }
}
