using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Aggregation;

/// <summary>
/// The state of one aggregate across the groups of a STATS. Values arrive as (row, group) pairs over a block;
/// every value of a multi-valued row counts. A group that saw no value gets null (COUNT gets 0).
/// </summary>
internal abstract class Aggregator(EsqlType resultType, TextSpan span)
{
    public EsqlType ResultType { get; } = resultType;

    public TextSpan Span { get; } = span;

    /// <summary>Adds the values of <paramref name="values"/> at the pairs' rows to the pairs' groups.</summary>
    public abstract void Add(Block values, ReadOnlySpan<int> rows, ReadOnlySpan<int> groups, int groupCount);

    public abstract Block Result(int groupCount, EvalContext context);

    /// <summary>
    /// An aggregator of the same kind with no values yet. A bound plan keeps its aggregators as prototypes that never
    /// run: each run aggregates into fresh ones, so a plan serves many runs (and threads). The state fields of every
    /// aggregator start empty and are replaced, never mutated in place, when they grow.
    /// </summary>
    public Aggregator Fresh() => (Aggregator)MemberwiseClone();

    protected static void Grow<T>(ref T[] array, int count)
    {
        if (array.Length < count)
        {
            Array.Resize(ref array, Math.Max(count, array.Length * 2));
        }
    }
}

/// <summary>COUNT(*): rows per group.</summary>
internal sealed class CountRowsAggregator(TextSpan span) : Aggregator(EsqlType.Long, span)
{
    private long[] counts = [];

    public override void Add(Block values, ReadOnlySpan<int> rows, ReadOnlySpan<int> groups, int groupCount)
    {
        Grow(ref counts, groupCount);
        foreach (var g in groups)
        {
            counts[g]++;
        }
    }

    public override Block Result(int groupCount, EvalContext context)
    {
        Grow(ref counts, groupCount);
        return new Block<long>(EsqlType.Long, groupCount, counts[..groupCount]);
    }
}

/// <summary>COUNT(x): values per group, each value of a multi-value counted.</summary>
internal sealed class CountValuesAggregator(TextSpan span) : Aggregator(EsqlType.Long, span)
{
    private long[] counts = [];

    public override void Add(Block values, ReadOnlySpan<int> rows, ReadOnlySpan<int> groups, int groupCount)
    {
        Grow(ref counts, groupCount);
        if (values.IsDense)
        {
            foreach (var g in groups)
            {
                counts[g]++;
            }
            return;
        }
        for (var i = 0; i < rows.Length; i++)
        {
            counts[groups[i]] += values.ValueCount(rows[i]);
        }
    }

    public override Block Result(int groupCount, EvalContext context)
    {
        Grow(ref counts, groupCount);
        return new Block<long>(EsqlType.Long, groupCount, counts[..groupCount]);
    }
}

/// <summary>A typed aggregator that sees every value of every pair.</summary>
internal abstract class ValueAggregator<T>(EsqlType resultType, TextSpan span) : Aggregator(resultType, span)
{
    public override void Add(Block values, ReadOnlySpan<int> rows, ReadOnlySpan<int> groups, int groupCount)
    {
        Resize(groupCount);
        var block = (Block<T>)values;
        var data = block.Values;
        if (block.IsDense)
        {
            for (var i = 0; i < rows.Length; i++)
            {
                Accept(groups[i], data[rows[i]]);
            }
            return;
        }
        for (var i = 0; i < rows.Length; i++)
        {
            var n = block.ValueCount(rows[i]);
            var first = block.FirstValueIndex(rows[i]);
            for (var k = 0; k < n; k++)
            {
                Accept(groups[i], data[first + k]);
            }
        }
    }

    protected abstract void Resize(int groupCount);

    protected abstract void Accept(int group, T value);
}

/// <summary>COUNT_DISTINCT: exact (Elasticsearch approximates with HyperLogLog++ above its precision threshold).</summary>
internal sealed class CountDistinctAggregator<T>(TextSpan span) : ValueAggregator<T>(EsqlType.Long, span)
    where T : notnull
{
    private HashSet<T>?[] sets = [];

    protected override void Resize(int groupCount) => Grow(ref sets, groupCount);

    protected override void Accept(int group, T value) => (sets[group] ??= []).Add(value);

    public override Block Result(int groupCount, EvalContext context)
    {
        Resize(groupCount);
        var counts = new long[groupCount];
        for (var g = 0; g < groupCount; g++)
        {
            counts[g] = sets[g]?.Count ?? 0;
        }
        return new Block<long>(EsqlType.Long, groupCount, counts);
    }
}

/// <summary>SUM and AVG of integers and longs: an exact long sum; overflow makes the group null with a warning.</summary>
internal sealed class LongSumAggregator<T>(TextSpan span, bool average, Func<T, long> widen) : ValueAggregator<T>(average ? EsqlType.Double : EsqlType.Long, span)
{
    private long[] sums = [];
    private long[] counts = [];
    private bool[] overflow = [];

    protected override void Resize(int groupCount)
    {
        Grow(ref sums, groupCount);
        Grow(ref counts, groupCount);
        Grow(ref overflow, groupCount);
    }

    protected override void Accept(int group, T value)
    {
        var v = widen(value);
        var sum = unchecked(sums[group] + v);
        if (((sums[group] ^ sum) & (v ^ sum)) < 0)
        {
            overflow[group] = true;
        }
        sums[group] = sum;
        counts[group]++;
    }

    public override Block Result(int groupCount, EvalContext context)
    {
        Resize(groupCount);
        var builder = BlockBuilder.Create(ResultType, groupCount);
        for (var g = 0; g < groupCount; g++)
        {
            if (counts[g] == 0)
            {
                builder.AppendNull();
            }
            else if (overflow[g])
            {
                context.Warnings.Failure(Span, "java.lang.ArithmeticException: long overflow");
                builder.AppendNull();
            }
            else
            {
                builder.AppendBoxed(average ? sums[g] / (double)counts[g] : (object)sums[g]);
            }
        }
        return builder.Build();
    }
}

/// <summary>SUM and AVG of doubles, with Kahan compensation as Elasticsearch's compensated sum does.</summary>
internal sealed class DoubleSumAggregator(TextSpan span, bool average) : ValueAggregator<double>(EsqlType.Double, span)
{
    private double[] sums = [];
    private double[] compensations = [];
    private long[] counts = [];

    protected override void Resize(int groupCount)
    {
        Grow(ref sums, groupCount);
        Grow(ref compensations, groupCount);
        Grow(ref counts, groupCount);
    }

    protected override void Accept(int group, double value)
    {
        var y = value - compensations[group];
        var t = sums[group] + y;
        compensations[group] = t - sums[group] - y;
        sums[group] = t;
        counts[group]++;
    }

    public override Block Result(int groupCount, EvalContext context)
    {
        Resize(groupCount);
        var builder = new BlockBuilder<double>(EsqlType.Double, groupCount);
        for (var g = 0; g < groupCount; g++)
        {
            var value = average ? sums[g] / counts[g] : sums[g];
            if (counts[g] == 0)
            {
                builder.AppendNull();
            }
            else if (!double.IsFinite(value))
            {
                context.Warnings.Failure(Span, $"java.lang.ArithmeticException: not a finite double number: {ValueFormat.Double(value)}");
                builder.AppendNull();
            }
            else
            {
                builder.Append(value);
            }
        }
        return builder.Build();
    }
}

/// <summary>MIN and MAX in the type's order.</summary>
internal sealed class ExtremeAggregator<T, TOrder>(EsqlType type, TextSpan span, bool max) : ValueAggregator<T>(type, span)
    where TOrder : IValueOrder<T>
{
    private T[] best = [];
    private bool[] seen = [];

    protected override void Resize(int groupCount)
    {
        Grow(ref best, groupCount);
        Grow(ref seen, groupCount);
    }

    protected override void Accept(int group, T value)
    {
        if (!seen[group] || (max ? TOrder.Compare(value, best[group]) > 0 : TOrder.Compare(value, best[group]) < 0))
        {
            best[group] = value;
            seen[group] = true;
        }
    }

    public override Block Result(int groupCount, EvalContext context)
    {
        Resize(groupCount);
        var nulls = seen[..groupCount].Any(s => !s) ? seen[..groupCount].Select(s => !s).ToArray() : null;
        return new Block<T>(ResultType, groupCount, best[..groupCount], nulls);
    }
}

/// <summary>VALUES: the distinct values of each group as a multi-value, in order of first appearance.</summary>
internal sealed class ValuesAggregator<T>(EsqlType type, TextSpan span) : ValueAggregator<T>(type, span)
    where T : notnull
{
    private List<T>?[] lists = [];
    private HashSet<T>?[] sets = [];

    protected override void Resize(int groupCount)
    {
        Grow(ref lists, groupCount);
        Grow(ref sets, groupCount);
    }

    protected override void Accept(int group, T value)
    {
        if ((sets[group] ??= []).Add(value))
        {
            (lists[group] ??= []).Add(value);
        }
    }

    public override Block Result(int groupCount, EvalContext context)
    {
        Resize(groupCount);
        var builder = new BlockBuilder<T>(ResultType, groupCount);
        for (var g = 0; g < groupCount; g++)
        {
            builder.AppendMany(lists[g] is { } list ? list.ToArray() : []);
        }
        return builder.Build();
    }
}

/// <summary>TOP(x, n, order): the n first values in order, repeats included.</summary>
internal sealed class TopAggregator<T>(EsqlType type, TextSpan span, int limit, bool descending, IComparer<T> comparer) : ValueAggregator<T>(type, span)
{
    private List<T>?[] lists = [];

    protected override void Resize(int groupCount) => Grow(ref lists, groupCount);

    protected override void Accept(int group, T value) => (lists[group] ??= []).Add(value);

    public override Block Result(int groupCount, EvalContext context)
    {
        Resize(groupCount);
        var builder = new BlockBuilder<T>(ResultType, groupCount);
        for (var g = 0; g < groupCount; g++)
        {
            var list = lists[g] ?? [];
            list.Sort(comparer);
            if (descending)
            {
                list.Reverse();
            }
            builder.AppendMany(list.Take(limit).ToArray());
        }
        return builder.Build();
    }
}

/// <summary>What a group's doubles become: MEDIAN, PERCENTILE, MEDIAN_ABSOLUTE_DEVIATION, STD_DEV, VARIANCE.</summary>
internal enum DoubleStatistic
{
    Percentile,
    MedianAbsoluteDeviation,
    StandardDeviation,
    Variance,
}

/// <summary>
/// Statistics over all of a group's values, exactly: percentiles interpolate linearly between the closest ranks
/// (Elasticsearch's TDigest does the same while it holds every value and approximates beyond);
/// STD_DEV and VARIANCE are of the population.
/// </summary>
internal sealed class DoubleStatisticAggregator<T>(TextSpan span, DoubleStatistic statistic, double percentile, Func<T, double> widen) : ValueAggregator<T>(EsqlType.Double, span)
{
    private List<double>?[] lists = [];

    protected override void Resize(int groupCount) => Grow(ref lists, groupCount);

    protected override void Accept(int group, T value) => (lists[group] ??= []).Add(widen(value));

    public override Block Result(int groupCount, EvalContext context)
    {
        Resize(groupCount);
        var builder = new BlockBuilder<double>(EsqlType.Double, groupCount);
        for (var g = 0; g < groupCount; g++)
        {
            if (lists[g] is not { Count: > 0 } values)
            {
                builder.AppendNull();
                continue;
            }
            builder.Append(statistic switch
            {
                DoubleStatistic.Percentile => Percentile(values, percentile),
                DoubleStatistic.MedianAbsoluteDeviation => Percentile([.. values.Select(v => Math.Abs(v - Percentile(values, 50)))], 50),
                DoubleStatistic.StandardDeviation => Math.Sqrt(Variance(values)),
                _ => Variance(values),
            });
        }
        return builder.Build();
    }

    public static double Percentile(List<double> values, double percentile)
    {
        values.Sort();
        var index = percentile / 100 * (values.Count - 1);
        var lower = (int)Math.Floor(index);
        var upper = Math.Min(lower + 1, values.Count - 1);
        return values[lower] + ((index - lower) * (values[upper] - values[lower]));
    }

    private static double Variance(List<double> values)
    {
        double mean = 0, m2 = 0;
        var n = 0;
        foreach (var v in values)
        {
            n++;
            var delta = v - mean;
            mean += delta / n;
            m2 += delta * (v - mean);
        }
        return m2 / n;
    }
}

/// <summary>WEIGHTED_AVG(x, w): the sum of x*w over the sum of w; rows missing either are skipped.</summary>
internal sealed class WeightedAverageAggregator(TextSpan span) : Aggregator(EsqlType.Double, span)
{
    private double[] sums = [];
    private double[] weights = [];

    public Block? Weights { get; set; }

    public override void Add(Block values, ReadOnlySpan<int> rows, ReadOnlySpan<int> groups, int groupCount)
    {
        Grow(ref sums, groupCount);
        Grow(ref weights, groupCount);
        var v = (Block<double>)values;
        var w = (Block<double>)Weights!;
        for (var i = 0; i < rows.Length; i++)
        {
            var r = rows[i];
            if (v.ValueCount(r) != 1 || w.ValueCount(r) != 1)
            {
                continue;
            }
            sums[groups[i]] += v.Value(r) * w.Value(r);
            weights[groups[i]] += w.Value(r);
        }
    }

    public override Block Result(int groupCount, EvalContext context)
    {
        Grow(ref sums, groupCount);
        Grow(ref weights, groupCount);
        var builder = new BlockBuilder<double>(EsqlType.Double, groupCount);
        for (var g = 0; g < groupCount; g++)
        {
            if (weights[g] == 0)
            {
                builder.AppendNull();
            }
            else
            {
                builder.Append(sums[g] / weights[g]);
            }
        }
        return builder.Build();
    }
}

/// <summary>An aggregate call of a STATS, bound: its aggregator, the argument it reads and its filter.</summary>
internal sealed record AggregateSpec(Aggregator Aggregator, Evaluator? Argument, Evaluator? Filter, Evaluator? Extra = null);
