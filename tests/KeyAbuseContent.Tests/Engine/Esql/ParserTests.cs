using KeyAbuseContent.Engine.Esql;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Tests.Engine.Esql;

public class ParserTests
{
    private static Query Parse(string text) => Parser.Parse(text);

    private static Expr Expression(string text) => Parser.ParseExpression(text);

    private static EsqlException Error(string text) => Assert.Throws<EsqlException>(() => Parser.Parse(text));

    [Fact]
    public void CommandsAreSplitOnPipes()
    {
        var query = Parse("FROM logs | WHERE a > 1 | LIMIT 5");
        Assert.IsType<FromCommand>(query.SourceCommand);
        Assert.Collection(query.Commands, c => Assert.IsType<WhereCommand>(c), c => Assert.Equal(5, Assert.IsType<LimitCommand>(c).Count));
    }

    [Fact]
    public void IndexPatternsKeepDashesDotsAndWildcards()
    {
        var from = Assert.IsType<FromCommand>(Parse("FROM logs-keyabuse.activity-*").SourceCommand);
        Assert.Equal("logs-keyabuse.activity-*", Assert.Single(from.Indices).Pattern);
    }

    [Fact]
    public void FromTakesACommaListAndMetadata()
    {
        var from = Assert.IsType<FromCommand>(Parse("FROM logs-aws.cloudtrail-*, logs-azure.activitylogs-* METADATA _id, _index").SourceCommand);
        Assert.Equal(["logs-aws.cloudtrail-*", "logs-azure.activitylogs-*"], from.Indices.Select(i => i.Pattern));
        Assert.Equal(["_id", "_index"], from.Metadata.Select(m => m.Pattern));
    }

    [Fact]
    public void DottedNamesAreOneColumn() => Assert.Equal("keyabuse.key.id", Assert.IsType<FieldExpr>(Expression("keyabuse.key.id")).Name);

    [Fact]
    public void AnAtSignStartsAName() => Assert.Equal("@timestamp", Assert.IsType<FieldExpr>(Expression("@timestamp")).Name);

    [Fact]
    public void BackquotedNamesKeepSpacesAndDoubledBackquotes() => Assert.Equal("my field`x", Assert.IsType<FieldExpr>(Expression("`my field``x`")).Name);

    [Fact]
    public void AndBindsTighterThanOr()
    {
        var or = Assert.IsType<BinaryExpr>(Expression("a == 1 OR b == 2 AND c == 3"));
        Assert.Equal(BinaryOp.Or, or.Op);
        Assert.Equal(BinaryOp.And, Assert.IsType<BinaryExpr>(or.Right).Op);
    }

    [Fact]
    public void NotAppliesToTheWholeComparison()
    {
        var not = Assert.IsType<UnaryExpr>(Expression("NOT a == 1"));
        Assert.Equal(BinaryOp.Equal, Assert.IsType<BinaryExpr>(not.Operand).Op);
    }

    [Fact]
    public void NotInIsOneNegatedPredicate() => Assert.True(Assert.IsType<InExpr>(Expression("status NOT IN (401, 403)")).Negated);

    [Fact]
    public void MultiplicationBindsTighterThanAddition()
    {
        var add = Assert.IsType<BinaryExpr>(Expression("1 + 2 * 3"));
        Assert.Equal(BinaryOp.Add, add.Op);
        Assert.Equal(BinaryOp.Multiply, Assert.IsType<BinaryExpr>(add.Right).Op);
    }

    [Fact]
    public void CastBindsTighterThanArithmetic()
    {
        var add = Assert.IsType<BinaryExpr>(Expression("a + \"1\"::long"));
        Assert.Equal("long", Assert.IsType<CastExpr>(add.Right).TypeName);
    }

    [Fact]
    public void ANegativeNumberIsOneLiteral() => Assert.Equal(int.MinValue, Assert.IsType<LiteralExpr>(Expression("-2147483648")).Value);

    [Fact]
    public void IntegersTooLargeForIntAreLongs() => Assert.Equal(LiteralKind.Long, Assert.IsType<LiteralExpr>(Expression("3000000000")).Kind);

    [Fact]
    public void TimeUnitsUpToHoursMakeDurations() => Assert.Equal(TimeSpan.FromMinutes(5), Assert.IsType<LiteralExpr>(Expression("5 minutes")).Value);

    [Fact]
    public void DaysMakeADatePeriod() => Assert.Equal(new DatePeriod(0, 30), Assert.IsType<LiteralExpr>(Expression("30 days")).Value);

    [Fact]
    public void TripleQuotedStringsKeepBackslashes() => Assert.Equal("a\\.b\"c", Assert.IsType<LiteralExpr>(Expression("\"\"\"a\\.b\"c\"\"\"")).Value);

    [Fact]
    public void QuotedStringsUnescape() => Assert.Equal("a\"b\\c\td", Assert.IsType<LiteralExpr>(Expression("\"a\\\"b\\\\c\\td\"")).Value);

    [Fact]
    public void AnUnnamedEvalColumnIsNamedAfterItsText()
    {
        var eval = Assert.IsType<EvalCommand>(Parse("ROW a = 1 | EVAL a  +  1").Commands[0]);
        Assert.Equal("a  +  1", Assert.Single(eval.Fields).Name);
    }

    [Fact]
    public void StatsHoldsAggregatesWithFiltersAndGroupings()
    {
        var stats = Assert.IsType<StatsCommand>(Parse("FROM t | STATS n = COUNT(*) WHERE x > 1, m = MAX(y) BY k, b = BUCKET(t, 1 hour)").Commands[0]);
        Assert.Equal(["n", "m"], stats.Aggregates.Select(a => a.Field.Name));
        Assert.NotNull(stats.Aggregates[0].Filter);
        Assert.Null(stats.Aggregates[1].Filter);
        Assert.Equal(["k", "b"], stats.Groupings.Select(g => g.Name));
        Assert.False(stats.Inline);
    }

    [Fact]
    public void InlineStatsIsParsedAsInline() => Assert.True(Assert.IsType<StatsCommand>(Parse("FROM t | INLINE STATS m = MIN(x) BY k").Commands[0]).Inline);

    [Fact]
    public void CountStarHasNoArguments()
    {
        var call = Assert.IsType<CallExpr>(Expression("COUNT(*)"));
        Assert.True(call.Star);
        Assert.Empty(call.Args);
    }

    [Fact]
    public void SortPutsNullsLastAscendingAndFirstDescending()
    {
        var sort = Assert.IsType<SortCommand>(Parse("FROM t | SORT a, b DESC, c ASC NULLS FIRST").Commands[0]);
        Assert.Equal([false, true, true], sort.Keys.Select(k => k.NullsFirst));
        Assert.Equal([false, true, false], sort.Keys.Select(k => k.Descending));
    }

    [Fact]
    public void RenameTakesAsAndTheAssignmentSpelling()
    {
        var rename = Assert.IsType<RenameCommand>(Parse("FROM t | RENAME a AS b, d = c").Commands[0]);
        Assert.Equal([("a", "b"), ("c", "d")], rename.Renames.Select(r => (r.From.Pattern, r.To.Pattern)));
    }

    [Fact]
    public void KeepTakesWildcardPatterns()
    {
        var keep = Assert.IsType<KeepCommand>(Parse("FROM t | KEEP keyabuse.*, *_id, a").Commands[0]);
        Assert.Equal(["keyabuse.*", "*_id", "a"], keep.Patterns.Select(p => p.Pattern));
    }

    [Fact]
    public void LookupJoinTakesSeveralFields()
    {
        var join = Assert.IsType<LookupJoinCommand>(Parse("FROM t | LOOKUP JOIN keyabuse-baseline-x ON a.b, c").Commands[0]);
        Assert.Equal("keyabuse-baseline-x", join.Index.Pattern);
        Assert.Equal(["a.b", "c"], join.On.Select(f => f.Name));
    }

    [Fact]
    public void DissectTakesAnAppendSeparator() =>
        Assert.Equal(",", Assert.IsType<DissectCommand>(Parse("FROM t | DISSECT msg \"%{+a} %{+a}\" APPEND_SEPARATOR=\",\"").Commands[0]).AppendSeparator);

    [Fact]
    public void CommentsAreIgnored() => Assert.Single(Parse("FROM t // a comment\n/* block | WHERE */ | LIMIT 1").Commands);

    [Fact]
    public void KeywordsAreCaseInsensitive() => Assert.IsType<WhereCommand>(Parse("from t | where a is not null").Commands[0]);

    [Fact]
    public void AnUnknownCommandIsNamedWithItsPosition()
    {
        var error = Error("FROM t\n| FROBNICATE x");
        Assert.Equal((2, 3), (error.Line, error.Column));
        Assert.Contains("[FROBNICATE]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnrichIsRefusedAsOutsideTheSubset()
    {
        var error = Error("FROM t | ENRICH policy ON a");
        Assert.Equal(10, error.Column);
        Assert.Contains("[ENRICH] is outside the subset", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnterminatedStringPointsAtItsQuote() => Assert.Equal(18, Error("ROW a = 1 | EVAL \"abc").Column);

    [Fact]
    public void ASingleEqualsInAConditionSuggestsDoubleEquals() => Assert.Contains("compare with '=='", Error("FROM t | WHERE a = 1").Message, StringComparison.Ordinal);

    [Fact]
    public void ParametersAreRefused() => Assert.Contains("parameters", Error("FROM t | WHERE a == ?").Message, StringComparison.Ordinal);

    [Fact]
    public void ChainedComparisonsAreRefused() => Assert.Contains("mismatched input '<'", Error("ROW a = 1 < 2 < 3").Message, StringComparison.Ordinal);

    [Fact]
    public void AQueryMustStartWithASourceCommand() => Assert.Contains("starts with FROM or ROW", Error("WHERE a > 1").Message, StringComparison.Ordinal);
}
