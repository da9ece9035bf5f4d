using static KeyAbuseContent.Tests.Engine.Esql.EsqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Esql;

public class FunctionTests
{
    private static object? Eval(string expression) => Value($"ROW x = {expression}");

    private static object? EvalAt(string time, string expression) => Value($"ROW t = \"{time}\"::datetime | EVAL x = {expression} | KEEP x");

    [Fact]
    public void DateTruncToAMinuteAlignsToTheEpoch() => Assert.Equal(Time("2026-11-30T03:17:00Z"), EvalAt("2026-11-30T03:17:42.123Z", "DATE_TRUNC(1 minute, t)"));

    [Fact]
    public void DateTruncToTenMinutesAlignsToTheEpoch() => Assert.Equal(Time("2026-11-30T03:10:00Z"), EvalAt("2026-11-30T03:17:42Z", "DATE_TRUNC(10 minutes, t)"));

    [Fact]
    public void DateTruncToAWeekStartsOnMonday() => Assert.Equal(Time("2026-11-30T00:00:00Z"), EvalAt("2026-12-06T23:00:00Z", "DATE_TRUNC(1 week, t)"));

    [Fact]
    public void DateTruncToAMonthIsTheFirstOfTheMonth() => Assert.Equal(Time("2026-11-01T00:00:00Z"), EvalAt("2026-11-30T03:17:00Z", "DATE_TRUNC(1 month, t)"));

    [Fact]
    public void DateTruncToAQuarterIsItsFirstMonth() => Assert.Equal(Time("2026-10-01T00:00:00Z"), EvalAt("2026-11-30T03:17:00Z", "DATE_TRUNC(3 months, t)"));

    [Fact]
    public void DateTruncOfADateBeforeTheEpochRoundsDown() => Assert.Equal(Time("1969-12-31T23:00:00Z"), EvalAt("1969-12-31T23:59:00Z", "DATE_TRUNC(1 hour, t)"));

    [Fact]
    public void DateExtractDayOfWeekIsIsoWithMondayAsOne() => Assert.Equal(1L, EvalAt("2026-11-30T03:17:00Z", "DATE_EXTRACT(\"DAY_OF_WEEK\", t)"));

    [Fact]
    public void DateExtractOfSundayIsSeven() => Assert.Equal(7L, EvalAt("2026-11-29T03:17:00Z", "DATE_EXTRACT(\"day_of_week\", t)"));

    [Fact]
    public void DateDiffCountsWholeHoursElapsed() => Assert.Equal(2, EvalAt("2026-11-30T02:59:59Z", "DATE_DIFF(\"hour\", \"2026-11-30T00:00:00Z\"::datetime, t)"));

    [Fact]
    public void DateDiffIsNegativeWhenTheEndIsEarlier() => Assert.Equal(-2, EvalAt("2026-11-30T00:00:00Z", "DATE_DIFF(\"hours\", \"2026-11-30T02:59:59Z\"::datetime, t)"));

    [Fact]
    public void DateDiffCountsOnlyCompleteMonths() => Assert.Equal(0, EvalAt("2026-02-28T00:00:00Z", "DATE_DIFF(\"month\", \"2026-01-31T00:00:00Z\"::datetime, t)"));

    [Fact]
    public void DateDiffCountsDaysByTimeOfDay() => Assert.Equal(0, EvalAt("2026-01-02T09:00:00Z", "DATE_DIFF(\"day\", \"2026-01-01T10:00:00Z\"::datetime, t)"));

    [Fact]
    public void DateFormatFollowsJavaPatterns() => Assert.Equal("2026-11-30 03:17 Mon", EvalAt("2026-11-30T03:17:42Z", "DATE_FORMAT(\"yyyy-MM-dd HH:mm EEE\", t)"));

    [Fact]
    public void DateFormatWithoutPatternIsIso() => Assert.Equal("2026-11-30T03:17:42.000Z", EvalAt("2026-11-30T03:17:42Z", "DATE_FORMAT(t)"));

    [Fact]
    public void DateParseReadsAJavaPattern() => Assert.Equal(Time("2023-05-07T13:45:00Z"), Eval("DATE_PARSE(\"dd/MM/yyyy HH:mm\", \"07/05/2023 13:45\")"));

    [Fact]
    public void DateParseOfBadTextIsNullWithAWarning()
    {
        var result = Run("ROW x = \"nope\" | EVAL d = DATE_PARSE(\"yyyy-MM-dd\", x) | KEEP d");
        Assert.Null(result.Table.Rows[0][0]);
        Assert.Contains(result.Warnings, w => w.Contains("failed to parse date field [nope]", StringComparison.Ordinal));
    }

    [Fact]
    public void NowIsTheRunTime() => Assert.Equal(Now, Eval("NOW()"));

    [Fact]
    public void NowIsTheSameEverywhereInAQuery() => Assert.Equal(true, Value("ROW a = NOW() | EVAL b = NOW() | EVAL x = a == b | KEEP x"));

    [Fact]
    public void ToStringOfAWholeDoubleKeepsAPointZero() => Assert.Equal("1.0", Eval("TO_STRING(1.0)"));

    [Fact]
    public void ToStringOfALargeDoubleUsesJavaScientificNotation() => Assert.Equal("1.0E20", Eval("TO_STRING(1e20)"));

    [Fact]
    public void ToStringOfASmallDoubleUsesJavaScientificNotation() => Assert.Equal("1.0E-4", Eval("TO_STRING(0.0001)"));

    [Fact]
    public void ToStringOfADoubleIsItsShortestForm() => Assert.Equal("0.1", Eval("TO_STRING(0.1)"));

    [Fact]
    public void ToStringOfADateIsIso() => Assert.Equal("2026-11-30T12:00:00.000Z", Eval("TO_STRING(NOW())"));

    [Fact]
    public void ToLongRoundsADoubleHalfUp() => Assert.Equal(3L, Eval("TO_LONG(2.5)"));

    [Fact]
    public void ToLongReadsADecimalString() => Assert.Equal(2L, Eval("TO_LONG(\"1.5\")"));

    [Fact]
    public void ToIntegerOfTextThatIsNoNumberIsNullWithAWarning()
    {
        var result = Run("ROW x = \"abc\" | EVAL i = TO_INTEGER(x) | KEEP i");
        Assert.Null(result.Table.Rows[0][0]);
        Assert.Contains("Line 1:26: org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [abc]", result.Warnings);
    }

    [Fact]
    public void ToIpReadsAnAddress() => Assert.Equal("10.0.0.1", Eval("TO_IP(\"10.0.0.1\")"));

    [Fact]
    public void RoundIsHalfAwayFromZero() => Assert.Equal(-3.0, Eval("ROUND(-2.5)"));

    [Fact]
    public void RoundKeepsDecimals() => Assert.Equal(1.23, Eval("ROUND(1.2345, 2)"));

    [Fact]
    public void RoundOfALongWithNegativeDecimalsRoundsToTens() => Assert.Equal(1240L, Eval("ROUND(1235::long, -1)"));

    [Fact]
    public void AbsKeepsTheType() => Assert.Equal(5, Eval("ABS(-5)"));

    [Fact]
    public void SqrtOfANegativeIsNullWithAWarning() => Assert.Contains(Run("ROW x = -1 | EVAL y = SQRT(x)").Warnings, w => w.EndsWith("java.lang.ArithmeticException: Square root of negative", StringComparison.Ordinal));

    [Fact]
    public void Log10OfAHundredIsTwo() => Assert.Equal(2.0, Eval("LOG10(100)"));

    [Fact]
    public void CaseTakesTheFirstTrueBranch() => Assert.Equal("b", Eval("CASE(1 > 2, \"a\", 2 > 1, \"b\", \"c\")"));

    [Fact]
    public void CaseWithoutElseIsNull() => Assert.Null(Eval("CASE(false, 1)"));

    [Fact]
    public void CoalesceOfALongAndAnIntegerLiteralIsALong()
    {
        var table = Run("ROW a = null::long | EVAL x = COALESCE(a, 0) | KEEP x").Table;
        Assert.Equal("long", table.Columns[0].Type);
        Assert.Equal(0L, table.Rows[0][0]);
    }

    [Fact]
    public void CoalesceOfTwoColumnsOfDifferentTypesIsAnError() =>
        Assert.Contains("second argument of [COALESCE(a, b)] must be [integer]", Error("ROW a = 1, b = 1.5 | EVAL x = COALESCE(a, b)").Message, StringComparison.Ordinal);

    [Fact]
    public void GreatestWidensNumbers() => Assert.Equal(2.5, Eval("GREATEST(1, 2.5, 2)"));

    [Fact]
    public void LeastOfKeywordsIsTheFirstInOrder() => Assert.Equal("a", Eval("LEAST(\"b\", \"a\")"));

    [Fact]
    public void ConcatOfANullIsNull() => Assert.Null(Eval("CONCAT(\"a\", null)"));

    [Fact]
    public void LengthCountsCodePoints() => Assert.Equal(3, Eval("LENGTH(\"a\U0001F600b\")"));

    [Fact]
    public void SubstringCountsFromOne() => Assert.Equal("bc", Eval("SUBSTRING(\"abcd\", 2, 2)"));

    [Fact]
    public void SubstringWithANegativeStartCountsFromTheEnd() => Assert.Equal("cd", Eval("SUBSTRING(\"abcd\", -2)"));

    [Fact]
    public void LocateIsOneBased() => Assert.Equal(2, Eval("LOCATE(\"abc\", \"b\")"));

    [Fact]
    public void LocateIsZeroWhenAbsent() => Assert.Equal(0, Eval("LOCATE(\"abc\", \"z\")"));

    [Fact]
    public void TrimRemovesSurroundingWhitespace() => Assert.Equal("a b", Eval("TRIM(\"  a b \")"));

    [Fact]
    public void StartsWithIsCaseSensitive() => Assert.Equal(false, Eval("STARTS_WITH(\"Curl\", \"curl\")"));

    [Fact]
    public void ToLowerLowersEveryValue() => Assert.Equal(Many("a", "b"), Eval("TO_LOWER([\"A\", \"B\"])"));

    [Fact]
    public void CidrMatchTestsEveryBlock() => Assert.Equal(true, Eval("CIDR_MATCH(TO_IP(\"192.168.1.5\"), \"10.0.0.0/8\", \"192.168.0.0/16\")"));

    [Fact]
    public void CidrMatchOfAnIpv6Address() => Assert.Equal(true, Eval("CIDR_MATCH(TO_IP(\"2001:db8::1\"), \"2001:db8::/32\")"));

    [Fact]
    public void MvCountCountsValues() => Assert.Equal(3, Eval("MV_COUNT([1, 2, 3])"));

    [Fact]
    public void MvContainsTestsEveryValueOfTheSubset() => Assert.Equal(true, Eval("MV_CONTAINS([\"a\", \"b\", \"c\"], [\"c\", \"a\"])"));

    [Fact]
    public void MvContainsOfNullIsTrue() => Assert.Equal(true, Eval("MV_CONTAINS([\"a\"], null)"));

    [Fact]
    public void MvConcatJoinsValues() => Assert.Equal("a, b", Eval("MV_CONCAT([\"a\", \"b\"], \", \")"));

    [Fact]
    public void MvFirstAndLastKeepStoredOrder() => Assert.Equal("3|1", Eval("CONCAT(TO_STRING(MV_FIRST([3, 2, 1])), \"|\", TO_STRING(MV_LAST([3, 2, 1])))"));

    [Fact]
    public void MvMinAndMaxOrderByType() => Assert.Equal(Many(1, 3), Value("ROW a = [3, 1, 2] | EVAL x = MV_APPEND(MV_MIN(a), MV_MAX(a)) | KEEP x"));

    [Fact]
    public void AScalarFunctionOfAMultiValueIsNullWithAWarning()
    {
        var result = Run("ROW a = [\"x\", \"y\"] | EVAL l = LENGTH(a) | KEEP l");
        Assert.Null(result.Table.Rows[0][0]);
        Assert.Contains("Line 1:31: java.lang.IllegalArgumentException: single-value function encountered multi-value", result.Warnings);
    }

    [Fact]
    public void CastsConvertWithDoubleColon() => Assert.Equal(42L, Eval("\"42\"::long"));

    [Fact]
    public void BucketWithASpanTruncatesDates() => Assert.Equal(Time("2026-11-30T03:00:00Z"), EvalAt("2026-11-30T03:17:00Z", "BUCKET(t, 1 hour)"));

    [Fact]
    public void BucketOfNumbersFloorsToTheSpan() => Assert.Equal(20.0, Eval("BUCKET(27, 10)"));

    [Fact]
    public void BucketPicksAHumanSpanForATargetCount() => Assert.Equal(Time("2026-11-01T00:00:00Z"), EvalAt("2026-11-30T03:17:00Z", "BUCKET(t, 20, \"2026-01-01T00:00:00Z\", \"2027-01-01T00:00:00Z\")"));
}
