using KeyAbuseContent.Engine.Kql;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

// The semantics the detection rules depend on, one per test.
public sealed class ScalarSemanticsTests
{
    [Theory]
    [InlineData("North America", "america", true)]
    [InlineData("North America", "ame", false)]
    [InlineData("python-requests/2.31", "python", true)]
    [InlineData("python-requests/2.31", "requests/2", true)]
    [InlineData("python-requests/2.31", "request", false)]
    [InlineData("key sk-abc123", "abc", false)]
    public void Has_matches_whole_terms_not_substrings(string text, string term, bool expected)
    {
        Assert.Equal(expected, Scalar($"print '{text}' has '{term}'"));
    }

    [Fact]
    public void Has_ignores_case_and_has_cs_does_not()
    {
        Assert.Equal((true, false), ((bool)Scalar("print 'Error Code' has 'error'")!, (bool)Scalar("print 'Error Code' has_cs 'error'")!));
    }

    [Fact]
    public void Contains_matches_substrings()
    {
        Assert.Equal(true, Scalar("print 'North America' contains 'ame'"));
    }

    [Fact]
    public void A_missing_string_is_empty_not_null()
    {
        var result = Run("print s = tostring(long(null)), e = isempty(tostring(long(null))), n = isnull(tostring(long(null)))");

        Assert.Equal(["", true, false], result.Rows[0]);
    }

    [Fact]
    public void Equality_with_null_is_false_and_inequality_true()
    {
        var result = Run("print eq = 5 == long(null), ne = 5 != long(null)");

        Assert.Equal([false, true], result.Rows[0]);
    }

    [Fact]
    public void Equality_of_two_nulls_is_null()
    {
        Assert.Null(Scalar("print long(null) == long(null)"));
    }

    [Fact]
    public void An_ordering_comparison_with_null_is_null()
    {
        Assert.Null(Scalar("print long(null) > 3"));
    }

    [Fact]
    public void Where_drops_rows_whose_predicate_is_null()
    {
        var t = Table("T", "x:long", [1L], [null], [5L]);

        var result = Run("T | where x > 0", t);

        Assert.Equal([1L, 5L], Column(result, "x"));
    }

    [Fact]
    public void Not_of_null_is_null_and_where_still_drops_it()
    {
        var t = Table("T", "x:long", [1L], [null]);

        Assert.Empty(Run("T | where not(x > 5) and x < 1", t).Rows);
    }

    [Fact]
    public void Startofweek_starts_on_sunday()
    {
        Assert.Equal(At("2026-11-29"), Scalar("print startofweek(datetime(2026-12-02 13:00))"));
    }

    [Fact]
    public void Dayofweek_counts_days_from_sunday_as_a_timespan()
    {
        Assert.Equal(TimeSpan.FromDays(3), Scalar("print dayofweek(datetime(2026-12-02))"));
    }

    [Fact]
    public void Integer_division_truncates_toward_zero()
    {
        var result = Run("print a = 7 / 2, b = -7 / 2");

        Assert.Equal([3L, -3L], result.Rows[0]);
    }

    [Fact]
    public void Real_division_keeps_the_fraction()
    {
        Assert.Equal(3.5, Scalar("print 7 / 2.0"));
    }

    [Fact]
    public void Integer_division_by_zero_is_null()
    {
        Assert.Null(Scalar("print 1 / 0"));
    }

    [Fact]
    public void Timespan_divided_by_timespan_is_a_real()
    {
        var result = Run("print r = 90m / 1h");

        Assert.Equal(("r", "real", (object?)1.5), (result.Columns[0].Name, result.Columns[0].Type, result.Rows[0][0]));
    }

    [Fact]
    public void Datetime_minus_datetime_is_a_timespan()
    {
        Assert.Equal(TimeSpan.FromHours(36), Scalar("print datetime(2026-01-02 12:00) - datetime(2026-01-01)"));
    }

    [Fact]
    public void Bin_floors_negative_numbers()
    {
        var result = Run("print a = bin(-5, 2), b = bin(-0.5, 1.0), c = bin(7, 5)");

        Assert.Equal([-6L, -1.0, 5L], result.Rows[0]);
    }

    [Fact]
    public void Bin_of_a_datetime_floors_to_the_bin()
    {
        Assert.Equal(At("2026-11-30 03:15:00"), Scalar("print bin(datetime(2026-11-30 03:17:59), 5m)"));
    }

    [Fact]
    public void Bin_of_a_datetime_is_aligned_to_0001_01_01_so_weeks_start_on_monday()
    {
        // 0001-01-01 was a Monday; 2026-12-02 is a Wednesday.
        Assert.Equal(At("2026-11-30"), Scalar("print bin(datetime(2026-12-02 13:00), 7d)"));
    }

    [Fact]
    public void Bin_of_a_datetime_before_the_epoch_still_floors()
    {
        Assert.Equal(At("1969-12-31"), Scalar("print bin(datetime(1969-12-31 13:00), 1d)"));
    }

    [Fact]
    public void Bin_with_a_zero_size_is_null()
    {
        Assert.Null(Scalar("print bin(5, 0)"));
    }

    [Theory]
    [InlineData("1.0", "1")]
    [InlineData("2.5", "2.5")]
    [InlineData("1.0 / 3", "0.333333333333333")]
    [InlineData("0.1 + 0.2", "0.3")]
    [InlineData("1e20", "1E+20")]
    [InlineData("real(nan)", "NaN")]
    public void Tostring_of_a_real_has_up_to_15_significant_digits(string expression, string text)
    {
        Assert.Equal(text, Scalar($"print tostring({expression})"));
    }

    [Theory]
    [InlineData("5m", "00:05:00")]
    [InlineData("1d + 2h", "1.02:00:00")]
    [InlineData("1500ms", "00:00:01.5000000")]
    [InlineData("-90s", "-00:01:30")]
    public void A_timespan_prints_as_days_hours_minutes_seconds_and_ticks(string expression, string text)
    {
        Assert.Equal(text, Scalar($"print tostring({expression})"));
    }

    [Fact]
    public void A_datetime_prints_as_iso_8601_utc()
    {
        Assert.Equal("2026-11-30T03:17:00Z", Scalar("print tostring(datetime(2026-11-30 03:17))"));
    }

    [Fact]
    public void Now_and_ago_read_the_clock_given_to_the_query()
    {
        var result = Run("print n = now(), a = ago(1h)");

        Assert.Equal([Now, Now.AddHours(-1)], result.Rows[0]);
    }

    [Fact]
    public void Now_is_the_same_in_every_row_and_every_let()
    {
        Assert.Equal(3L, Scalar("let t = now(); range x from 1 to 3 step 1 | extend same = now() == t | summarize countif(same)"));
    }

    [Fact]
    public void Integer_arithmetic_on_ints_gives_long()
    {
        var result = Run("print x = int(2) + int(3)");

        Assert.Equal(("long", (object?)5L), (result.Columns[0].Type, result.Rows[0][0]));
    }

    [Fact]
    public void A_string_compared_with_a_number_is_an_error_naming_both_types()
    {
        var error = Fails("print 'a' == 1");

        Assert.Equal(KqlErrorKind.Binding, error.Kind);
        Assert.Contains("string and long", error.Message, StringComparison.Ordinal);
    }
}
