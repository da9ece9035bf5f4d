using KeyAbuseContent.Engine.Data;
using static KeyAbuseContent.Tests.Engine.Esql.EsqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Esql;

public class StatsTests
{
    private static readonly DataTable Calls = Table("calls", ["@timestamp:date", "key:keyword", "status:long", "tokens:long", "ms:double", "tags:keyword"],
        [Time("2026-11-30T10:00:10Z"), "a", 200L, 100L, 10.0, Many("x", "y")],
        [Time("2026-11-30T10:00:50Z"), "a", 401L, 50L, 20.0, "x"],
        [Time("2026-11-30T10:01:10Z"), "b", 401L, null, 30.0, null],
        [Time("2026-11-30T10:02:00Z"), "a", 200L, 25L, 40.0, "y"]);

    [Fact]
    public void StatsPutsAggregatesFirstAndKeysAfter()
    {
        var table = Run("FROM calls | STATS n = COUNT(*), t = SUM(tokens) BY key", Calls).Table;
        Assert.Equal(["n", "t", "key"], table.Columns.Select(c => c.Name));
        Assert.Equal(["long", "long", "keyword"], table.Columns.Select(c => c.Type));
    }

    [Fact]
    public void StatsGroupsByEveryKey() =>
        Assert.Equal([2L, 1L, 1L], Column("FROM calls | STATS n = COUNT(*) BY key, status | SORT key, status", "n", Calls));

    [Fact]
    public void StatsWithoutByReturnsOneRowEvenOverNoRows() => Assert.Equal(0L, Value("FROM calls | WHERE status == 999 | STATS COUNT(*)", Calls));

    [Fact]
    public void SumOverNoRowsIsNull() => Assert.Null(Value("FROM calls | WHERE status == 999 | STATS SUM(tokens)", Calls));

    [Fact]
    public void StatsByOverNoRowsReturnsNoRows() => Assert.Empty(Run("FROM calls | WHERE status == 999 | STATS COUNT(*) BY key", Calls).Table.Rows);

    [Fact]
    public void CountOfAFieldSkipsNulls() => Assert.Equal(3L, Value("FROM calls | STATS COUNT(tokens)", Calls));

    [Fact]
    public void CountOfAMultiValuedFieldCountsEveryValue() => Assert.Equal(4L, Value("FROM calls | STATS COUNT(tags)", Calls));

    [Fact]
    public void GroupingByAMultiValuedFieldPutsTheRowInEachValuesGroup() =>
        Assert.Equal([2L, 2L, 1L], Column("FROM calls | STATS n = COUNT(*) BY tags | SORT tags", "n", Calls));

    [Fact]
    public void NullKeysFormTheirOwnGroup() => Assert.Equal([null, "x", "y"], Column("FROM calls | STATS n = COUNT(*) BY tags | SORT tags NULLS FIRST", "tags", Calls));

    [Fact]
    public void AggregatesMayBeExpressionsOverAggregates() => Assert.Equal(175L / 3.0, Value("FROM calls | STATS avg = SUM(tokens) / COUNT(tokens)::double", Calls));

    [Fact]
    public void AnAggregateWhereFiltersOnlyThatAggregate()
    {
        var row = Assert.Single(Run("FROM calls | STATS failures = COUNT(*) WHERE status == 401, total = COUNT(*)", Calls).Table.Rows);
        Assert.Equal([2L, 4L], row);
    }

    [Fact]
    public void ByMayHoldAnExpressionWithAName() =>
        Assert.Equal([2L, 1L, 1L], Column("FROM calls | STATS n = COUNT(*) BY minute = DATE_TRUNC(1 minute, @timestamp) | SORT minute", "n", Calls));

    [Fact]
    public void AnUnnamedByExpressionIsNamedAfterItsText() =>
        Assert.Equal("BUCKET(@timestamp, 1 minute)", Run("FROM calls | STATS COUNT(*) BY BUCKET(@timestamp, 1 minute)", Calls).Table.Columns[1].Name);

    [Fact]
    public void MinAndMaxKeepTheType()
    {
        var table = Run("FROM calls | STATS first = MIN(@timestamp), last = MAX(key)", Calls).Table;
        Assert.Equal(["date", "keyword"], table.Columns.Select(c => c.Type));
        Assert.Equal([Time("2026-11-30T10:00:10Z"), "b"], table.Rows[0]);
    }

    [Fact]
    public void AvgIsADouble() => Assert.Equal(25.0, Value("FROM calls | STATS AVG(ms)", Calls));

    [Fact]
    public void MedianInterpolatesBetweenTheMiddleValues() => Assert.Equal(25.0, Value("FROM calls | STATS MEDIAN(ms)", Calls));

    [Fact]
    public void PercentileInterpolatesLinearly() => Assert.Equal(37.0, Value("FROM calls | STATS PERCENTILE(ms, 90)", Calls));

    [Fact]
    public void StdDevIsOfThePopulation() => Assert.Equal(Math.Sqrt(125), (double)Value("FROM calls | STATS STD_DEV(ms)", Calls)!, 9);

    [Fact]
    public void CountDistinctIsExact() => Assert.Equal(2L, Value("FROM calls | STATS COUNT_DISTINCT(key)", Calls));

    [Fact]
    public void ValuesCollectsDistinctValues() => Assert.Equal(Many("a", "b"), Value("FROM calls | STATS v = VALUES(key) | EVAL v = MV_SORT(v)", Calls));

    [Fact]
    public void TopTakesTheFirstValuesInOrder() => Assert.Equal(Many(100L, 50L), Value("FROM calls | STATS TOP(tokens, 2, \"desc\")", Calls));

    [Fact]
    public void SumOfACaseCountsMatchingRows() => Assert.Equal(2L, Value("FROM calls | STATS SUM(CASE(status == 401, 1, 0))", Calls));

    [Fact]
    public void StatsByAloneListsDistinctKeys() => Assert.Equal(["a", "b"], Column("FROM calls | STATS BY key | SORT key", "key", Calls));

    [Fact]
    public void AColumnOutsideAnAggregateMustBeAKey() =>
        Assert.Contains("column [tokens] must appear in the STATS BY clause or be used in an aggregate function", Error("FROM calls | STATS x = tokens BY key", Calls).Message, StringComparison.Ordinal);

    [Fact]
    public void AStatsFieldNeedsAnAggregate() => Assert.Contains("expected an aggregate function", Error("FROM calls | STATS x = 1", Calls).Message, StringComparison.Ordinal);

    [Fact]
    public void NestedAggregatesAreRefused() => Assert.Contains("not allowed inside another aggregate", Error("FROM calls | STATS MAX(COUNT(*))", Calls).Message, StringComparison.Ordinal);

    [Fact]
    public void SumOverflowIsNullWithAWarning()
    {
        var t = Table("t", ["v:long"], [long.MaxValue], [1L]);
        var result = Run("FROM t | STATS s = SUM(v)", t);
        Assert.Null(result.Table.Rows[0][0]);
        Assert.Contains("Line 1:20: java.lang.ArithmeticException: long overflow", result.Warnings);
    }

    [Fact]
    public void InlineStatsKeepsEveryRow()
    {
        var table = Run("FROM calls | KEEP key, tokens | INLINE STATS total = SUM(tokens) BY key", Calls).Table;
        Assert.Equal(["tokens", "total", "key"], table.Columns.Select(c => c.Name));
        Assert.Equal([175L, 175L, null, 175L], table.Rows.Select(r => r[1]));
    }

    [Fact]
    public void InlineStatsWithoutByAddsTheWholeAggregateToEveryRow() =>
        Assert.Equal([4L, 4L, 4L, 4L], Column("FROM calls | INLINE STATS n = COUNT(*)", "n", Calls));

    [Fact]
    public void InlineStatsReplacesAColumnOfTheSameName() =>
        Assert.Equal([175L, 175L, null, 175L], Column("FROM calls | KEEP key, tokens | INLINE STATS tokens = SUM(tokens) BY key", "tokens", Calls));

    [Fact]
    public void ANullKeywordOfATableIsItsOwnGroup()
    {
        var t = Table("t", ["k:keyword", "b:long"], ["x", 1L], [null, 1L], ["x", 2L], [null, 1L]);
        Assert.Equal([1L, 1L, 2L], Column("FROM t | STATS n = COUNT(*) BY k, b | SORT k, b", "n", t));
    }

    [Fact]
    public void AWideKeySpaceGroupsThroughTheHashMap()
    {
        var rows = Enumerable.Range(0, 300).Select(i => new object?[] { $"k{i}", (long)i * 7919 }).ToArray();
        var t = Table("t", ["k:keyword", "b:long"], rows);
        Assert.Equal(300, Run("FROM t | STATS n = COUNT(*) BY k, b", t).Table.Rows.Count);
    }

    [Fact]
    public void TheGroupMapNumbersKeysInOrderOfFirstInsertion()
    {
        var map = new KeyAbuseContent.Engine.Esql.Aggregation.LongIntHashMap(2);
        var ids = Enumerable.Range(0, 1000).Select(i => map.GetOrAdd(i * 31L)).ToList();
        Assert.Equal(Enumerable.Range(0, 1000), ids);
        Assert.Equal(500, map.GetOrAdd(500 * 31L));
        Assert.Equal(1000, map.Count);
    }
}
