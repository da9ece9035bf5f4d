using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Tests.Engine.Data;

public sealed class TableFilesTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "keyabuse-tables-" + Guid.NewGuid().ToString("N"));

    public TableFilesTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void CsvHeadersDeclareTypes()
    {
        var table = TableFiles.Load("T", Write("t.csv", "KeyId:string,Count:long,When:datetime\nk1,3,2026-11-30T10:00:00Z\n"), TableDialect.Kql);
        Assert.Equal(["string", "long", "datetime"], table.Columns.Select(c => c.Type));
        Assert.Equal(3L, table.Rows[0][1]);
        Assert.Equal(new DateTime(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc), table.Rows[0][2]);
    }

    [Fact]
    public void CsvTypesAreInferredWhenNotDeclared()
    {
        var table = TableFiles.Load("T", Write("t.csv", "a,b,c,d\n1,1.5,true,x\n2,2,false,\n"), TableDialect.Esql);
        Assert.Equal(["long", "double", "boolean", "keyword"], table.Columns.Select(c => c.Type));
    }

    [Fact]
    public void AnEmptyCsvCellIsAnEmptyKqlStringButANullEsqlKeyword()
    {
        var path = Write("t.csv", "a:string\n\"\"\n");
        Assert.Equal("", TableFiles.Load("T", path, TableDialect.Kql).Rows[0][0]);
        Assert.Null(TableFiles.Load("T", path, TableDialect.Esql).Rows[0][0]);
    }

    [Fact]
    public void QuotedCsvFieldsKeepCommasAndQuotes()
    {
        var table = TableFiles.Load("T", Write("t.csv", "ua:string\n\"curl/8.5, \"\"x\"\"\"\n"), TableDialect.Kql);
        Assert.Equal("curl/8.5, \"x\"", table.Rows[0][0]);
    }

    [Fact]
    public void JsonLinesKeepJsonTypesAndReadIsoDates()
    {
        var table = TableFiles.Load("T", Write("t.jsonl", """{"k":"a","n":2,"r":1.5,"b":true,"t":"2026-11-30T10:00:00Z"}""" + "\n"), TableDialect.Kql);
        Assert.Equal(["string", "long", "real", "bool", "datetime"], table.Columns.Select(c => c.Type));
    }

    [Fact]
    public void JsonArraysAreMultiValuesForEsqlAndDynamicForKql()
    {
        var path = Write("t.jsonl", """{"models":["a","b"]}""" + "\n");
        Assert.Equal(new object?[] { "a", "b" }, ((ImmutableArray<object?>)TableFiles.Load("T", path, TableDialect.Esql).Rows[0][0]!).ToArray());
        Assert.IsType<JsonArray>(TableFiles.Load("T", path, TableDialect.Kql).Rows[0][0]);
    }

    [Fact]
    public void ATypesFileOverridesInference()
    {
        Write("t.types.json", """{"ip": "ip", "n": "double"}""");
        var table = TableFiles.Load("T", Write("t.jsonl", """{"ip":"203.0.113.9","n":2}""" + "\n"), TableDialect.Esql);
        Assert.Equal(["ip", "double"], table.Columns.Select(c => c.Type));
        Assert.Equal(2.0, table.Rows[0][1]);
    }

    [Fact]
    public void AValueThatIsNotItsTypeNamesFileLineAndColumn()
    {
        var e = Assert.Throws<TableFileException>(() => TableFiles.Load("T", Write("t.csv", "n:long\n1\nabc\n"), TableDialect.Kql));
        Assert.Contains("t.csv:3: column n: 'abc' is not a long", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownTypeNameIsRefused() =>
        Assert.Contains("'bigly' (column n) is not a KQL or Elasticsearch type name",
            Assert.Throws<TableFileException>(() => TableFiles.Load("T", Write("t.csv", "n:bigly\n1\n"), TableDialect.Kql)).Message, StringComparison.Ordinal);
}
