using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Aggregation;

/// <summary>
/// The groups of a STATS: each key column is first turned into ordinals (one a distinct value, null included,
/// in order of first appearance), then the ordinals of all keys are combined into group ids. A row whose key
/// holds several values belongs to one group per value (per combination, with several such keys), so the
/// result is a list of (row, group) pairs; without multi-values it is one pair per row, in row order.
/// </summary>
internal sealed class Grouping
{
    private Grouping(int groupCount, int[] rows, int[] groups, bool identity, Block[] keys)
    {
        GroupCount = groupCount;
        Rows = rows;
        Groups = groups;
        IsIdentity = identity;
        Keys = keys;
    }

    public int GroupCount { get; }

    /// <summary>The row of each pair.</summary>
    public int[] Rows { get; }

    /// <summary>The group of each pair.</summary>
    public int[] Groups { get; }

    /// <summary>Pair i is row i: no multi-valued key expanded a row.</summary>
    public bool IsIdentity { get; }

    /// <summary>The key values of each group, one block a key, one position a group.</summary>
    public Block[] Keys { get; }

    /// <summary>One group holding every row (STATS without BY): there is always one, even over no rows.</summary>
    public static Grouping Single(int positionCount)
    {
        var rows = new int[positionCount];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = i;
        }
        return new Grouping(1, rows, new int[positionCount], true, []);
    }

    public static Grouping Build(IReadOnlyList<Block> keys, int positionCount)
    {
        var columns = keys.Select(k => Ordinalize(k, positionCount)).ToArray();
        if (columns.All(c => c.FirstValues is null))
        {
            return Combine(columns, positionCount);
        }
        return CombineExpanding(columns, positionCount);
    }

    private static Grouping Combine(KeyColumn[] columns, int positionCount)
    {
        var rows = new int[positionCount];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = i;
        }
        if (columns.Length == 1)
        {
            // One key: its ordinals, in first-appearance order, are the group ids.
            var ordinals = columns[0].Ordinals;
            return new Grouping(columns[0].Cardinality, rows, ordinals, true, [columns[0].KeyBlock([.. Enumerable.Range(0, columns[0].Cardinality)])]);
        }
        var groups = new int[positionCount];
        var tuples = new List<int[]>();
        var ids = new Dictionary<long, int>();
        var wide = new Dictionary<TupleKey, int>();
        var fits = FitsInLong(columns);
        for (var p = 0; p < positionCount; p++)
        {
            groups[p] = fits ? GroupOfPacked(columns, p, null, ids, tuples) : GroupOfTuple(columns, p, null, wide, tuples);
        }
        return new Grouping(tuples.Count, rows, groups, true, KeyBlocks(columns, tuples));
    }

    private static Grouping CombineExpanding(KeyColumn[] columns, int positionCount)
    {
        var rows = new List<int>(positionCount);
        var groups = new List<int>(positionCount);
        var tuples = new List<int[]>();
        var ids = new Dictionary<long, int>();
        var wide = new Dictionary<TupleKey, int>();
        var fits = FitsInLong(columns);
        var choice = new int[columns.Length];
        for (var p = 0; p < positionCount; p++)
        {
            Expand(0);

            void Expand(int k)
            {
                if (k == columns.Length)
                {
                    rows.Add(p);
                    groups.Add(fits ? GroupOfPacked(columns, p, choice, ids, tuples) : GroupOfTuple(columns, p, choice, wide, tuples));
                    return;
                }
                var column = columns[k];
                var (first, count) = column.ValueRange(p);
                for (var i = 0; i < count; i++)
                {
                    choice[k] = column.Ordinals[first + i];
                    Expand(k + 1);
                }
            }
        }
        return new Grouping(tuples.Count, [.. rows], [.. groups], false, KeyBlocks(columns, tuples));
    }

    private static bool FitsInLong(KeyColumn[] columns)
    {
        double product = 1;
        foreach (var c in columns)
        {
            product *= Math.Max(1, c.Cardinality);
        }
        return product < long.MaxValue / 2;
    }

    private static int GroupOfPacked(KeyColumn[] columns, int position, int[]? choice, Dictionary<long, int> ids, List<int[]> tuples)
    {
        long packed = 0;
        for (var k = 0; k < columns.Length; k++)
        {
            packed = (packed * columns[k].Cardinality) + (choice?[k] ?? columns[k].Ordinals[position]);
        }
        if (!ids.TryGetValue(packed, out var group))
        {
            group = tuples.Count;
            ids[packed] = group;
            tuples.Add([.. columns.Select((c, k) => choice?[k] ?? c.Ordinals[position])]);
        }
        return group;
    }

    private static int GroupOfTuple(KeyColumn[] columns, int position, int[]? choice, Dictionary<TupleKey, int> ids, List<int[]> tuples)
    {
        var tuple = columns.Select((c, k) => choice?[k] ?? c.Ordinals[position]).ToArray();
        var key = new TupleKey(tuple);
        if (!ids.TryGetValue(key, out var group))
        {
            group = tuples.Count;
            ids[key] = group;
            tuples.Add(tuple);
        }
        return group;
    }

    private static Block[] KeyBlocks(KeyColumn[] columns, List<int[]> tuples) =>
        [.. columns.Select((c, k) => c.KeyBlock([.. tuples.Select(t => t[k])]))];

    private static KeyColumn Ordinalize(Block block, int positionCount) => EsqlTypes.Widen(block.Type) switch
    {
        EsqlType.Integer => KeyColumn.Of((Block<int>)block, positionCount, EqualityComparer<int>.Default),
        EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration => KeyColumn.Of((Block<long>)block, positionCount, EqualityComparer<long>.Default),
        EsqlType.Double => KeyColumn.Of((Block<double>)block, positionCount, EqualityComparer<double>.Default),
        EsqlType.Boolean => KeyColumn.Of((Block<bool>)block, positionCount, EqualityComparer<bool>.Default),
        EsqlType.Ip => KeyColumn.Of((Block<UInt128>)block, positionCount, EqualityComparer<UInt128>.Default),
        EsqlType.Keyword => KeyColumn.Of((Block<string>)block, positionCount, StringComparer.Ordinal),
        _ => KeyColumn.AllNull(block, positionCount),
    };

    /// <summary>One key as ordinals; with multi-values, ordinals per value and each position's first value.</summary>
    private sealed class KeyColumn
    {
        private readonly Func<int[], Block> keyBlock;

        private KeyColumn(int[] ordinals, int[]? firstValues, int cardinality, Func<int[], Block> keyBlock)
        {
            Ordinals = ordinals;
            FirstValues = firstValues;
            Cardinality = cardinality;
            this.keyBlock = keyBlock;
        }

        public int[] Ordinals { get; }

        public int[]? FirstValues { get; }

        public int Cardinality { get; }

        public (int First, int Count) ValueRange(int position) =>
            FirstValues is { } f ? (f[position], f[position + 1] - f[position]) : (position, 1);

        /// <summary>A block with the value of each ordinal listed.</summary>
        public Block KeyBlock(int[] ordinals) => keyBlock(ordinals);

        public static KeyColumn AllNull(Block block, int positionCount) =>
            new(new int[positionCount], null, positionCount > 0 ? 1 : 0, ordinals => Block.AllNull(block.Type, ordinals.Length));

        public static KeyColumn Of<T>(Block<T> block, int positionCount, IEqualityComparer<T> comparer)
            where T : notnull
        {
            var ids = new Dictionary<T, int>(comparer);
            var distinct = new List<T>();
            var nullOrdinal = -1;
            int Ordinal(T value)
            {
                if (!ids.TryGetValue(value, out var ordinal))
                {
                    ordinal = distinct.Count;
                    ids[value] = ordinal;
                    distinct.Add(value);
                }
                return ordinal;
            }
            int NullOrdinal()
            {
                if (nullOrdinal < 0)
                {
                    nullOrdinal = distinct.Count;
                    distinct.Add(default!);
                }
                return nullOrdinal;
            }
            int[] ordinals;
            int[]? firstValues = null;
            if (block.IsDense)
            {
                ordinals = new int[positionCount];
                var values = block.Values;
                for (var p = 0; p < positionCount; p++)
                {
                    ordinals[p] = Ordinal(values[p]);
                }
            }
            else if (!block.MayHaveMultiValues || block.IsConstant && block.ValueCount(0) <= 1)
            {
                ordinals = new int[positionCount];
                for (var p = 0; p < positionCount; p++)
                {
                    ordinals[p] = block.IsNull(p) ? NullOrdinal() : Ordinal(block.Value(p));
                }
            }
            else
            {
                var list = new List<int>(positionCount);
                firstValues = new int[positionCount + 1];
                for (var p = 0; p < positionCount; p++)
                {
                    firstValues[p] = list.Count;
                    var n = block.ValueCount(p);
                    if (n == 0)
                    {
                        list.Add(NullOrdinal());
                        continue;
                    }
                    var first = block.FirstValueIndex(p);
                    var seen = new HashSet<int>();
                    for (var i = 0; i < n; i++)
                    {
                        var ordinal = Ordinal(block.Values[first + i]);
                        if (seen.Add(ordinal))
                        {
                            list.Add(ordinal);
                        }
                    }
                }
                firstValues[positionCount] = list.Count;
                ordinals = [.. list];
            }
            var type = block.Type;
            var nullAt = nullOrdinal;
            return new KeyColumn(ordinals, firstValues, distinct.Count, chosen =>
            {
                var values = new T[chosen.Length];
                bool[]? nulls = null;
                for (var i = 0; i < chosen.Length; i++)
                {
                    if (chosen[i] == nullAt)
                    {
                        nulls ??= new bool[chosen.Length];
                        nulls[i] = true;
                    }
                    else
                    {
                        values[i] = distinct[chosen[i]];
                    }
                }
                return new Block<T>(type, chosen.Length, values, nulls);
            });
        }
    }

    private readonly struct TupleKey(int[] values) : IEquatable<TupleKey>
    {
        private readonly int[] values = values;

        public bool Equals(TupleKey other) => values.AsSpan().SequenceEqual(other.values);

        public override bool Equals(object? obj) => obj is TupleKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (var v in values)
            {
                hash.Add(v);
            }
            return hash.ToHashCode();
        }
    }
}
