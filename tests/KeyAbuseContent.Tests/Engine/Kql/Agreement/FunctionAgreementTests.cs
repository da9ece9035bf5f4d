using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql.Functions;
using KeyAbuseContent.Validation.Kql;

namespace KeyAbuseContent.Tests.Engine.Kql.Agreement;

// Each built-in function of the executor, called on columns of every type, must bind in Microsoft's language
// service and give the column name and type it infers. Adding a function means adding a call here.
public sealed class FunctionAgreementTests
{
    private const string Row = "datatable(a:string, b:long, r:real, t:datetime, s:timespan, d:dynamic, i:int, bo:bool)[]";

    private static readonly string[] Calls =
    [
        "abs(b)", "abs(i)", "abs(r)", "ago(s)", "array_concat(d, d)", "array_index_of(d, 1)", "array_length(d)", "array_reverse(d)",
        "array_slice(d, 0, 1)", "array_sum(d)", "assert(bo, 'm')", "bag_has_key(d, 'k')", "bag_keys(d)", "bag_pack('k', b)", "bin(b, 5)",
        "bin(r, 0.5)", "bin(t, 1h)", "bin(s, 1m)", "bin_at(t, 1h, t)", "case(bo, a, a)", "ceiling(r)", "ceiling(i)", "coalesce(b, i)",
        "countof(a, 'x')", "datetime_add('day', 1, t)", "datetime_diff('day', t, t)", "datetime_part('hour', t)", "dayofmonth(t)",
        "dayofweek(t)", "dayofyear(t)", "dynamic_to_json(d)", "endofday(t)", "endofmonth(t)", "endofweek(t)", "endofyear(t)", "exp(r)",
        "exp10(r)", "exp2(r)", "extract('x(.)', 1, a)", "extract('x(.)', 1, a, typeof(long))", "extract_all('x', a)", "floor(b, 2)",
        "format_datetime(t, 'yyyy')", "format_timespan(s, 'hh')", "getmonth(t)", "getyear(t)", "hourofday(t)", "iff(bo, b, r)", "iif(bo, a, a)",
        "indexof(a, 'x')", "ipv4_compare(a, a)", "ipv4_is_in_any_range(a, 'x')", "ipv4_is_in_range(a, a)", "ipv4_is_match(a, a)",
        "ipv4_is_private(a)", "ipv6_compare(a, a)", "ipv6_is_in_any_range(a, 'x')", "ipv6_is_in_range(a, a)", "ipv6_is_match(a, a)", "isascii(a)", "isempty(a)", "isfinite(r)", "isinf(r)", "isnan(r)", "isnotempty(a)", "isnotnull(b)", "isnull(b)",
        "log(r)", "log10(r)", "log2(r)", "make_datetime(2026, 1, 2)", "max_of(b, i)", "min_of(i, i)", "monthofyear(t)", "not(bo)", "now()",
        "pack('k', b)", "pack_array(a, b)", "parse_ipv4(a)", "parse_json(a)", "pow(b, 2)", "range(1, 3, 1)", "repeat(b, 3)",
        "replace_regex(a, 'x', 'y')", "replace_string(a, 'x', 'y')", "reverse(a)", "round(r, 1)", "round(b)", "round(i)",
        "set_difference(d, d)", "set_has_element(d, a)", "set_intersect(d, d)", "set_union(d, d)", "sign(r)", "split(a, ',')", "sqrt(b)",
        "startofday(t)", "startofmonth(t)", "startofweek(t)", "startofyear(t)", "strcat(a, b)", "strcat_array(d, ',')", "strcat_delim(',', a, b)",
        "strcmp(a, a)", "strlen(a)", "strrep(a, 2)", "substring(a, 1)", "tobool(a)", "toboolean(a)", "todatetime(a)", "todouble(b)",
        "todynamic(a)", "toguid(a)", "tohex(b)", "toint(a)", "tolong(a)", "tolower(a)", "toreal(b)", "tostring(b)", "totime(a)", "totimespan(a)",
        "toupper(a)", "trim(' ', a)", "trim_end(' ', a)", "trim_start(' ', a)", "unixtime_microseconds_todatetime(b)",
        "unixtime_milliseconds_todatetime(b)", "unixtime_nanoseconds_todatetime(b)", "unixtime_seconds_todatetime(b)", "url_decode(a)",
        "url_encode(a)", "week_of_year(t)", "zip(d, d)",
    ];

    private static readonly string[] Summaries =
    [
        "count()", "count() by a", "countif(bo)", "count(bo)", "dcount(a) by bin(t, 1h)", "dcountif(a, bo)", "sum(b)", "sum(i)", "sum(r)", "sum(s)",
        "sumif(b, bo)", "avg(b)", "avg(s)", "avg(t)", "avgif(r, bo)", "min(t), max(a) by b", "minif(b, bo)", "maxif(r, bo)", "stdev(r)",
        "stdevif(b, bo)", "stdevp(r)", "variance(b)", "varianceif(r, bo)", "variancep(r)", "percentile(b, 95)", "percentile(i, 50)",
        "percentile(r, 99.9)", "percentiles(b, 50, 90) by a", "make_set(a)", "make_set(a, 5)", "make_list(b) by a", "make_set_if(a, bo)",
        "make_list_if(b, bo)", "arg_max(t, a, b) by i", "arg_min(b, *) by a", "arg_max(t, *)", "take_any(a)", "take_any(a, b) by a",
        "x = todouble(count()), y = sum(b) / count() by a", "count(), count() by tostring(d.k)", "n = count() by Hour = bin(t, 1h), a",
    ];

    [Fact]
    public void Every_aggregate_gives_the_columns_Microsoft_infers()
    {
        var queries = Summaries.Select(c => (c, $"{Row} | summarize {c}")).ToList();
        var kusto = KustoResultSchemas.Infer(new KqlDatabaseSchema([], []), queries);

        var differences = new List<string>();
        foreach (var ((summary, query), inferred) in queries.Zip(kusto))
        {
            var ours = KqlTestKit.Schema(KqlTestKit.Run(query));
            if (inferred.Errors.Count > 0 || !ours.SequenceEqual(inferred.Columns ?? []))
            {
                differences.Add($"{summary}: executor [{string.Join(", ", ours)}], Kusto.Language [{string.Join(", ", inferred.Columns ?? [])}] {string.Join("; ", inferred.Errors)}");
            }
        }

        Assert.Empty(differences);
    }

    [Fact]
    public void Every_built_in_function_has_a_call_here()
    {
        var called = Calls.Select(c => c[..c.IndexOf('(', StringComparison.Ordinal)]).ToHashSet();

        Assert.Empty(ScalarFunctions.Names.Where(n => !called.Contains(n)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_built_in_function_gives_the_column_name_and_type_Microsoft_infers()
    {
        var queries = Calls.Select(c => (c, $"{Row} | project {c}")).ToList();
        var kusto = KustoResultSchemas.Infer(new KqlDatabaseSchema([], []), queries);

        var differences = new List<string>();
        foreach (var ((call, query), inferred) in queries.Zip(kusto))
        {
            var result = KqlTestKit.Run(query);
            var ours = Assert.Single(result.Columns);
            var theirs = inferred.Columns is { Count: 1 } c ? c[0] : "?";
            if (inferred.Errors.Count > 0 || $"{ours.Name}:{ours.Type}" != theirs)
            {
                differences.Add($"{call}: executor {ours.Name}:{ours.Type}, Kusto.Language {theirs} {string.Join("; ", inferred.Errors)}");
            }
        }

        Assert.Empty(differences);
    }
}
