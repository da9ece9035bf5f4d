using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>
/// An aggregation of summarize: its argument expressions (evaluated over the input) and one or more result
/// columns (one row per group). Nulls are ignored by every aggregate except take_any with several arguments.
/// </summary>
internal abstract class Aggregate
{
    protected Aggregate(ImmutableArray<ScalarNode> arguments, ImmutableArray<KqlType> outputTypes)
    {
        Arguments = arguments;
        OutputTypes = outputTypes;
    }

    public ImmutableArray<ScalarNode> Arguments { get; }

    public ImmutableArray<KqlType> OutputTypes { get; }

    public abstract Column[] Compute(Column[] arguments, Groups groups);

    /// <summary>The rows a predicate keeps (true, not null); null when there is no predicate.</summary>
    protected static bool[]? Mask(Column? predicate)
    {
        if (predicate is null)
        {
            return null;
        }
        var (values, nulls) = ColumnViews.Bools(predicate);
        if (nulls is null)
        {
            return values;
        }
        var mask = new bool[values.Length];
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = values[i] && !nulls[i];
        }
        return mask;
    }

    protected static bool Keep(bool[]? mask, int row) => mask is null || mask[row];
}

/// <summary><c>count()</c> and <c>countif(predicate)</c>.</summary>
internal sealed class CountAggregate : Aggregate
{
    public CountAggregate(ScalarNode? predicate)
        : base(predicate is null ? [] : [predicate], [KqlType.Long])
    {
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var mask = arguments.Length > 0 ? Mask(arguments[0]) : null;
        var counts = new long[groups.Count];
        var rowGroups = groups.RowGroups;
        for (var r = 0; r < rowGroups.Length; r++)
        {
            if (Keep(mask, r))
            {
                counts[rowGroups[r]]++;
            }
        }
        return [new ValueColumn<long>(KqlType.Long, counts, null, counts.Length)];
    }
}

/// <summary><c>sum</c>/<c>sumif</c>: integers sum as long, reals as real, timespans as timespans; a group with no values is null.</summary>
internal sealed class SumAggregate : Aggregate
{
    public SumAggregate(ScalarNode value, ScalarNode? predicate, KqlType type)
        : base(predicate is null ? [value] : [value, predicate], [type])
    {
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var mask = arguments.Length > 1 ? Mask(arguments[1]) : null;
        var type = OutputTypes[0];
        var seen = new bool[groups.Count];
        var rowGroups = groups.RowGroups;
        if (type == KqlType.Real)
        {
            var (values, nulls) = ColumnViews.Doubles(arguments[0]);
            var sums = new double[groups.Count];
            for (var r = 0; r < rowGroups.Length; r++)
            {
                if (Keep(mask, r) && (nulls is null || !nulls[r]))
                {
                    sums[rowGroups[r]] += values[r];
                    seen[rowGroups[r]] = true;
                }
            }
            return [new ValueColumn<double>(type, sums, Unseen(seen), sums.Length)];
        }
        var (longs, longNulls) = ColumnViews.Longs(arguments[0]);
        var totals = new long[groups.Count];
        for (var r = 0; r < rowGroups.Length; r++)
        {
            if (Keep(mask, r) && (longNulls is null || !longNulls[r]))
            {
                totals[rowGroups[r]] += longs[r];
                seen[rowGroups[r]] = true;
            }
        }
        return [new ValueColumn<long>(type, totals, Unseen(seen), totals.Length)];
    }

    internal static bool[]? Unseen(bool[] seen)
    {
        if (Array.TrueForAll(seen, s => s))
        {
            return null;
        }
        return [.. seen.Select(s => !s)];
    }
}

/// <summary><c>avg</c>/<c>avgif</c>: the mean as a real (a timespan or datetime for those types); a group with no values is null.</summary>
internal sealed class AvgAggregate : Aggregate
{
    public AvgAggregate(ScalarNode value, ScalarNode? predicate, KqlType type)
        : base(predicate is null ? [value] : [value, predicate], [type])
    {
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var mask = arguments.Length > 1 ? Mask(arguments[1]) : null;
        var (values, nulls) = ColumnViews.Doubles(arguments[0]);
        var sums = new double[groups.Count];
        var counts = new long[groups.Count];
        var rowGroups = groups.RowGroups;
        for (var r = 0; r < rowGroups.Length; r++)
        {
            if (Keep(mask, r) && (nulls is null || !nulls[r]))
            {
                sums[rowGroups[r]] += values[r];
                counts[rowGroups[r]]++;
            }
        }
        var builder = ColumnBuilder.Create(OutputTypes[0], groups.Count);
        for (var g = 0; g < groups.Count; g++)
        {
            if (counts[g] == 0)
            {
                builder.Add(null);
                continue;
            }
            var mean = sums[g] / counts[g];
            builder.Add(OutputTypes[0] switch
            {
                KqlType.TimeSpan => new TimeSpan((long)mean),
                KqlType.DateTime => new DateTime((long)mean, DateTimeKind.Utc),
                _ => mean,
            });
        }
        return [builder.Build()];
    }
}

/// <summary><c>min</c>/<c>max</c> and <c>minif</c>/<c>maxif</c> over any orderable type.</summary>
internal sealed class MinMaxAggregate : Aggregate
{
    private readonly bool _max;

    public MinMaxAggregate(ScalarNode value, ScalarNode? predicate, bool max)
        : base(predicate is null ? [value] : [value, predicate], [value.Type])
    {
        _max = max;
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var mask = arguments.Length > 1 ? Mask(arguments[1]) : null;
        var best = ArgExtremeAggregate.BestRows(arguments[0], mask, groups, _max);
        return [arguments[0].Gather(best)];
    }
}

/// <summary><c>dcount</c>/<c>dcountif</c>: the exact number of distinct non-null values (Kusto estimates it with HyperLogLog).</summary>
internal sealed class DCountAggregate : Aggregate
{
    public DCountAggregate(ScalarNode value, ScalarNode? predicate)
        : base(predicate is null ? [value] : [value, predicate], [KqlType.Long])
    {
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var mask = arguments.Length > 1 ? Mask(arguments[1]) : null;
        var value = arguments[0];
        var codes = KeyEncoder.For(value.Type).Encode(value);
        var m = value.Materialize();
        var seen = new LongIntMap();
        var counts = new long[groups.Count];
        for (var r = 0; r < codes.Length; r++)
        {
            if (!Keep(mask, r) || IsNullValue(m, r))
            {
                continue;
            }
            var g = groups.RowGroups[r];
            if (seen.Add(((long)g << 32) | (uint)codes[r]))
            {
                counts[g]++;
            }
        }
        return [new ValueColumn<long>(KqlType.Long, counts, null, counts.Length)];
    }

    internal static bool IsNullValue(Column column, int row) =>
        column.IsNull(row) || (column is DynamicColumn d && Scalars.DynamicScalar(d.Values[row]) is null);
}

/// <summary><c>stdev</c>, <c>stdevp</c>, <c>variance</c>, <c>variancep</c> (and their <c>if</c> forms), by Welford's method.</summary>
internal sealed class SpreadAggregate : Aggregate
{
    private readonly bool _population;
    private readonly bool _variance;

    public SpreadAggregate(ScalarNode value, ScalarNode? predicate, bool population, bool variance)
        : base(predicate is null ? [value] : [value, predicate], [KqlType.Real])
    {
        _population = population;
        _variance = variance;
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var mask = arguments.Length > 1 ? Mask(arguments[1]) : null;
        var (values, nulls) = ColumnViews.Doubles(arguments[0]);
        var counts = new long[groups.Count];
        var means = new double[groups.Count];
        var m2 = new double[groups.Count];
        for (var r = 0; r < groups.RowGroups.Length; r++)
        {
            if (!Keep(mask, r) || (nulls is not null && nulls[r]))
            {
                continue;
            }
            var g = groups.RowGroups[r];
            counts[g]++;
            var delta = values[r] - means[g];
            means[g] += delta / counts[g];
            m2[g] += delta * (values[r] - means[g]);
        }
        var result = new double[groups.Count];
        bool[]? resultNulls = null;
        for (var g = 0; g < result.Length; g++)
        {
            var divisor = _population ? counts[g] : counts[g] - 1;
            if (counts[g] == 0)
            {
                resultNulls ??= new bool[result.Length];
                resultNulls[g] = true;
                continue;
            }
            var variance = divisor <= 0 ? 0 : m2[g] / divisor;
            result[g] = _variance ? variance : Math.Sqrt(variance);
        }
        return [new ValueColumn<double>(KqlType.Real, result, resultNulls, result.Length)];
    }
}

/// <summary>
/// <c>percentile</c>/<c>percentiles</c>, exact by the nearest-rank method: the smallest value with at least p% of the
/// group's values at or below it (Kusto estimates with T-Digest, which gives the same on small groups).
/// </summary>
internal sealed class PercentileAggregate : Aggregate
{
    private readonly ImmutableArray<double> _percents;

    public PercentileAggregate(ScalarNode value, ImmutableArray<double> percents, KqlType type)
        : base([value], [.. percents.Select(_ => type)])
    {
        _percents = percents;
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var m = arguments[0].Materialize();
        var byGroup = new List<int>[groups.Count];
        for (var r = 0; r < groups.RowGroups.Length; r++)
        {
            if (!m.IsNull(r))
            {
                (byGroup[groups.RowGroups[r]] ??= []).Add(r);
            }
        }
        var comparer = Comparer<int>.Create((a, b) => Ordering.CompareForSort(m.GetValue(a)!, m.GetValue(b)!));
        var results = _percents.Select(_ => new int[groups.Count]).ToArray();
        for (var g = 0; g < groups.Count; g++)
        {
            var rows = byGroup[g];
            if (rows is null)
            {
                foreach (var result in results)
                {
                    result[g] = -1;
                }
                continue;
            }
            rows.Sort(comparer);
            for (var p = 0; p < _percents.Length; p++)
            {
                results[p][g] = rows[NearestRank(_percents[p], rows.Count)];
            }
        }
        var output = new Column[_percents.Length];
        for (var p = 0; p < output.Length; p++)
        {
            var picked = m.Gather(results[p]);
            output[p] = picked.Type == OutputTypes[p] ? picked : Convert(picked, OutputTypes[p]);
        }
        return output;
    }

    /// <summary>The 0-based index of the nearest-rank percentile among <paramref name="count"/> sorted values.</summary>
    public static int NearestRank(double percent, int count)
    {
        var rank = (int)Math.Ceiling(percent / 100.0 * count);
        return Math.Clamp(rank, 1, count) - 1;
    }

    private static Column Convert(Column column, KqlType type)
    {
        var builder = ColumnBuilder.Create(type, column.Count);
        for (var i = 0; i < column.Count; i++)
        {
            builder.Add(column.GetValue(i));
        }
        return builder.Build();
    }
}

/// <summary><c>make_list</c>/<c>make_set</c> (and their <c>_if</c> forms): the group's non-null values as a dynamic array, in input order; a set keeps first occurrences.</summary>
internal sealed class MakeListAggregate : Aggregate
{
    private readonly bool _set;
    private readonly long _maxSize;

    public MakeListAggregate(ScalarNode value, ScalarNode? predicate, bool set, long maxSize)
        : base(predicate is null ? [value] : [value, predicate], [KqlType.Dynamic])
    {
        _set = set;
        _maxSize = maxSize;
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var mask = arguments.Length > 1 ? Mask(arguments[1]) : null;
        var m = arguments[0].Materialize();
        var codes = _set ? KeyEncoder.For(m.Type).Encode(m) : null;
        var seen = new LongIntMap();
        var lists = new JsonArray?[groups.Count];
        for (var r = 0; r < groups.RowGroups.Length; r++)
        {
            if (!Keep(mask, r) || DCountAggregate.IsNullValue(m, r))
            {
                continue;
            }
            var g = groups.RowGroups[r];
            var list = lists[g] ??= [];
            if (_set && m.GetValue(r) is JsonArray elements)
            {
                // make_set of arrays is the set of their elements.
                foreach (var element in elements)
                {
                    if (list.Count < _maxSize && element is not null && !list.Any(e => JsonNode.DeepEquals(e, element)))
                    {
                        list.Add(Scalars.Detached(element));
                    }
                }
                continue;
            }
            if (codes is not null && !seen.Add(((long)g << 32) | (uint)codes[r]))
            {
                continue;
            }
            if (list.Count < _maxSize)
            {
                list.Add(Scalars.Detached(Scalars.ToDynamic(m.GetValue(r))));
            }
        }
        var values = new JsonNode?[groups.Count];
        for (var g = 0; g < values.Length; g++)
        {
            values[g] = lists[g] ?? [];
        }
        return [new DynamicColumn(values, values.Length)];
    }
}

/// <summary>
/// <c>arg_max</c>/<c>arg_min</c>: per group, the row with the largest (smallest) value of the first argument (nulls
/// ignored, the first such row on ties), and the other arguments taken from that row.
/// </summary>
internal sealed class ArgExtremeAggregate : Aggregate
{
    private readonly bool _max;

    public ArgExtremeAggregate(ImmutableArray<ScalarNode> arguments, bool max)
        : base(arguments, [.. arguments.Select(a => a.Type)])
    {
        _max = max;
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var best = BestRows(arguments[0], null, groups, _max);
        return [.. arguments.Select(a => a.Gather(best))];
    }

    /// <summary>Per group, the row holding the extreme non-null value (-1 for a group without one).</summary>
    public static int[] BestRows(Column column, bool[]? mask, Groups groups, bool max)
    {
        var best = new int[groups.Count];
        Array.Fill(best, -1);
        var m = column.Materialize();
        var rowGroups = groups.RowGroups;
        switch (m)
        {
            case ValueColumn<long> or ValueColumn<int>:
                var (longs, longNulls) = ColumnViews.Longs(m);
                for (var r = 0; r < rowGroups.Length; r++)
                {
                    if (!Keep(mask, r) || (longNulls is not null && longNulls[r]))
                    {
                        continue;
                    }
                    var g = rowGroups[r];
                    if (best[g] < 0 || (max ? longs[r] > longs[best[g]] : longs[r] < longs[best[g]]))
                    {
                        best[g] = r;
                    }
                }
                return best;
            case ValueColumn<double> d:
                for (var r = 0; r < rowGroups.Length; r++)
                {
                    if (!Keep(mask, r) || (d.Nulls is not null && d.Nulls[r]))
                    {
                        continue;
                    }
                    var g = rowGroups[r];
                    if (best[g] < 0 || (max ? d.Values[r] > d.Values[best[g]] : d.Values[r] < d.Values[best[g]]))
                    {
                        best[g] = r;
                    }
                }
                return best;
            default:
                for (var r = 0; r < rowGroups.Length; r++)
                {
                    if (!Keep(mask, r) || DCountAggregate.IsNullValue(m, r))
                    {
                        continue;
                    }
                    var g = rowGroups[r];
                    if (best[g] < 0)
                    {
                        best[g] = r;
                        continue;
                    }
                    var c = Ordering.CompareForSort(Unwrap(m.GetValue(r))!, Unwrap(m.GetValue(best[g]))!);
                    if (max ? c > 0 : c < 0)
                    {
                        best[g] = r;
                    }
                }
                return best;
        }
    }

    private static object? Unwrap(object? value) => value is JsonNode n ? Scalars.DynamicScalar(n) : value;
}

/// <summary><c>take_any</c>: one row of the group (the first; with one argument, the first with a non-null value).</summary>
internal sealed class TakeAnyAggregate : Aggregate
{
    public TakeAnyAggregate(ImmutableArray<ScalarNode> arguments)
        : base(arguments, [.. arguments.Select(a => a.Type)])
    {
    }

    public override Column[] Compute(Column[] arguments, Groups groups)
    {
        var picked = new int[groups.Count];
        Array.Fill(picked, -1);
        var single = arguments.Length == 1 ? arguments[0].Materialize() : null;
        for (var r = 0; r < groups.RowGroups.Length; r++)
        {
            var g = groups.RowGroups[r];
            if (picked[g] < 0 && (single is null || !DCountAggregate.IsNullValue(single, r)))
            {
                picked[g] = r;
            }
        }
        return [.. arguments.Select(a => a.Gather(picked))];
    }
}
