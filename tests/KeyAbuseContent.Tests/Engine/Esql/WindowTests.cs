using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;
using static KeyAbuseContent.Tests.Engine.Esql.EsqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Esql;

/// <summary>
/// The run window of <see cref="EsqlEngine.Execute"/>: [From, To) on every FROM index's <c>@timestamp</c>, answered
/// from the table's cached time order, whatever the order of its rows.
/// </summary>
public class WindowTests
{
    private static readonly DateTime T0 = Time("2026-11-30T10:00:00Z");

    private static DataTable Events(params (string Id, DateTime? At)[] rows) =>
        Table("logs-app", ["@timestamp:date", "id:keyword"], [.. rows.Select(r => new object?[] { r.At, r.Id })]);

    private static List<object?> Ids(DataTable table, DateTime from, DateTime to, string query = "FROM logs-app | KEEP id") =>
        [.. new EsqlEngine().Execute(query, new Dictionary<string, DataTable> { [table.Name] = table }, Now, (from, to)).Table.Rows.Select(r => r[0])];

    [Fact]
    public void ARowAtFromIsIncluded() =>
        Assert.Equal(["a"], Ids(Events(("a", T0), ("b", T0.AddMinutes(5))), T0, T0.AddMinutes(5)));

    [Fact]
    public void ARowAtToIsExcluded() =>
        Assert.Equal(["b"], Ids(Events(("a", T0), ("b", T0.AddMinutes(5)), ("c", T0.AddMinutes(10))), T0.AddMinutes(1), T0.AddMinutes(10)));

    [Fact]
    public void AMillisecondBeforeToIsIncluded() =>
        Assert.Equal(["a"], Ids(Events(("a", T0.AddMilliseconds(999)), ("b", T0.AddSeconds(1))), T0, T0.AddSeconds(1)));

    [Fact]
    public void UnsortedRowsAreWindowedAndKeepTheTablesOrder()
    {
        var table = Events(("d", T0.AddMinutes(30)), ("b", T0.AddMinutes(10)), ("x", T0.AddMinutes(-5)), ("c", T0.AddMinutes(20)), ("a", T0));
        Assert.Equal(["d", "b", "c", "a"], Ids(table, T0, T0.AddHours(1)));
        Assert.Equal(["b", "c"], Ids(table, T0.AddMinutes(5), T0.AddMinutes(25)));
    }

    [Fact]
    public void NullTimestampsAreInNoWindow()
    {
        var table = Events(("a", T0), ("n1", null), ("b", T0.AddMinutes(1)), ("n2", null));
        Assert.Equal(["a", "b"], Ids(table, DateTime.UnixEpoch, T0.AddYears(10)));
    }

    [Fact]
    public void NullTimestampsInUnsortedRowsAreInNoWindow()
    {
        var table = Events(("b", T0.AddMinutes(1)), ("n", null), ("a", T0));
        Assert.Equal(["b", "a"], Ids(table, T0, T0.AddMinutes(2)));
    }

    [Fact]
    public void AnEmptyOrReversedWindowHasNoRows()
    {
        var table = Events(("a", T0));
        Assert.Empty(Ids(table, T0, T0));
        Assert.Empty(Ids(table, T0.AddMinutes(1), T0));
    }

    [Fact]
    public void OneTableServesSuccessiveWindows()
    {
        var table = Events([.. Enumerable.Range(0, 100).Select(i => ($"e{i}", (DateTime?)T0.AddMinutes(99 - i)))]);
        for (var start = 0; start < 100; start += 7)
        {
            var expected = Enumerable.Range(0, 100).Where(i => 99 - i >= start && 99 - i < start + 10).Select(i => (object?)$"e{i}");
            Assert.Equal(expected, Ids(table, T0.AddMinutes(start), T0.AddMinutes(start + 10)));
        }
    }

    [Fact]
    public void ARowWithSeveralTimestampsIsInTheWindowOfAnyOfThem()
    {
        var table = Table("logs-app", ["@timestamp:date", "id:keyword"],
            [Many(T0, T0.AddHours(2)), "a"],
            [T0.AddHours(1), "b"]);
        Assert.Equal(["a"], Ids(table, T0.AddHours(2), T0.AddHours(3)));
    }

    [Fact]
    public void AnIndexWithoutTimestampHasNoRowsInAWindow() =>
        Assert.Empty(Ids(Table("logs-app", ["id:keyword"], ["a"]), T0, T0.AddDays(1)));

    [Fact]
    public void RowIdsAreTheRowsOfTheWholeTable() =>
        Assert.Equal(["logs-app:2"], Ids(Events(("a", T0), ("b", T0.AddMinutes(5))), T0.AddMinutes(1), T0.AddMinutes(10), "FROM logs-app METADATA _id | KEEP _id"));

    [Fact]
    public void LookupIndicesAreNotWindowed()
    {
        var events = Table("logs-app", ["@timestamp:date", "id:keyword"], [T0, "a"]);
        var owners = Table("owners", ["@timestamp:date", "id:keyword", "owner:keyword"], [T0.AddYears(-1), "a", "ops"]);
        var result = new EsqlEngine().Execute("FROM logs-app | LOOKUP JOIN owners ON id | KEEP owner",
            new Dictionary<string, DataTable> { [events.Name] = events, [owners.Name] = owners }, Now, (T0, T0.AddMinutes(5)));
        Assert.Equal(["ops"], result.Table.Rows.Select(r => r[0]));
    }
}
