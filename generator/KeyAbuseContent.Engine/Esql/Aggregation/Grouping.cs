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
internal sealed partial class Grouping
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
        Morsels.For(positionCount, (start, end) =>
        {
            for (var i = start; i < end; i++)
            {
                rows[i] = i;
            }
        });
        if (columns.Length == 1)
        {
            // One key: its ordinals, in first-appearance order, are the group ids.
            var ordinals = columns[0].Ordinals;
            return new Grouping(columns[0].Cardinality, rows, ordinals, true, [columns[0].KeyBlock([.. Enumerable.Range(0, columns[0].Cardinality)])]);
        }
        if (!FitsInLong(columns))
        {
            return CombineExpanding(columns, positionCount);
        }
        // Several keys: pack their ordinals into one number; a small key space is a direct table, else a hash map.
        var product = 1L;
        foreach (var c in columns)
        {
            product *= Math.Max(1, c.Cardinality);
        }
        var packing = PackingOrder(columns, positionCount);
        var direct = product <= Math.Max(1L << 16, 2L * positionCount);
        if (Morsels.Count(positionCount) > 1 && positionCount <= MaxPartitionedRows)
        {
            return CombinePartitioned(columns, packing, product, direct, rows);
        }
        var groups = new int[positionCount];
        var groupKeys = new GroupKeys(columns.Length);
        if (direct)
        {
            var table = new int[product];
            Array.Fill(table, -1);
            for (var p = 0; p < positionCount; p++)
            {
                var packed = Pack(packing, p);
                var group = table[packed];
                if (group < 0)
                {
                    group = table[packed] = groupKeys.Add(columns, p);
                }
                groups[p] = group;
            }
        }
        else
        {
            var map = new LongIntHashMap(Math.Min(positionCount, 1 << 20));
            for (var p = 0; p < positionCount; p++)
            {
                var group = map.GetOrAdd(Pack(packing, p));
                if (group == groupKeys.Count)
                {
                    groupKeys.Add(columns, p);
                }
                groups[p] = group;
            }
        }
        return new Grouping(groupKeys.Count, rows, groups, true, [.. columns.Select((c, k) => c.KeyBlock(groupKeys.Ordinals(k)))]);
    }

    /// <summary>
    /// The keys in the order their ordinals are packed, the most significant first: the key whose ordinal changes
    /// least often from one row to the next goes first, so consecutive rows land near each other in the direct
    /// table or map. In time-ordered logs a time bin changes every thousand rows while a key changes every row, and
    /// packing the bin first turns a cache miss per row into a walk through a few cache lines. Group ids do not
    /// depend on it: they are given in order of first appearance.
    /// </summary>
    private static KeyColumn[] PackingOrder(KeyColumn[] columns, int positionCount)
    {
        var sample = Math.Min(positionCount, 1 << 16);
        var changes = new int[columns.Length];
        for (var k = 0; k < columns.Length; k++)
        {
            var ordinals = columns[k].Ordinals;
            for (var p = 1; p < sample; p++)
            {
                changes[k] += ordinals[p] != ordinals[p - 1] ? 1 : 0;
            }
        }
        return [.. Enumerable.Range(0, columns.Length).OrderBy(k => changes[k]).Select(k => columns[k])];
    }

    private static long Pack(KeyColumn[] columns, int position)
    {
        long packed = 0;
        for (var k = 0; k < columns.Length; k++)
        {
            packed = (packed * columns[k].Cardinality) + columns[k].Ordinals[position];
        }
        return packed;
    }

    /// <summary>The key ordinals of each group, one growing array a key.</summary>
    private sealed class GroupKeys(int keyCount)
    {
        private readonly int[][] ordinals = [.. Enumerable.Range(0, keyCount).Select(_ => new int[64])];

        public int Count { get; private set; }

        public int Add(KeyColumn[] columns, int position)
        {
            for (var k = 0; k < columns.Length; k++)
            {
                if (Count == ordinals[k].Length)
                {
                    Array.Resize(ref ordinals[k], Count * 2);
                }
                ordinals[k][Count] = columns[k].Ordinals[position];
            }
            return Count++;
        }

        public int[] Ordinals(int key) => ordinals[key][..Count];
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
        EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration when block.IsDense => KeyColumn.OfDenseLongs((Block<long>)block, positionCount),
        EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration => KeyColumn.Of((Block<long>)block, positionCount, EqualityComparer<long>.Default),
        EsqlType.Keyword when block is Block<string> { Encoding: not null, FirstValues: null, IsConstant: false } encoded => KeyColumn.OfEncoded(encoded, positionCount),
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

        /// <summary>
        /// A long column without nulls or multi-values: ids from open-addressing maps, one a morsel in parallel,
        /// then renumbered in order of first appearance across morsels.
        /// </summary>
        public static KeyColumn OfDenseLongs(Block<long> block, int positionCount)
        {
            var values = block.Values;
            var ordinals = new int[positionCount];
            var morsels = Morsels.Count(positionCount);
            var local = new List<long>[morsels];
            Morsels.For(positionCount, morsels, (m, start, end) =>
            {
                var map = new LongIntHashMap(1024);
                var seen = new List<long>();
                for (var p = start; p < end; p++)
                {
                    var ordinal = map.GetOrAdd(values[p]);
                    if (ordinal == seen.Count)
                    {
                        seen.Add(values[p]);
                    }
                    ordinals[p] = ordinal;
                }
                local[m] = seen;
            });
            var global = new LongIntHashMap(1024);
            var distinct = new List<long>();
            var renumber = new int[morsels][];
            for (var m = 0; m < morsels; m++)
            {
                renumber[m] = new int[local[m].Count];
                for (var i = 0; i < renumber[m].Length; i++)
                {
                    var ordinal = global.GetOrAdd(local[m][i]);
                    if (ordinal == distinct.Count)
                    {
                        distinct.Add(local[m][i]);
                    }
                    renumber[m][i] = ordinal;
                }
            }
            Renumber(ordinals, morsels, renumber);
            var type = block.Type;
            return new KeyColumn(ordinals, null, distinct.Count, chosen =>
            {
                var keys = new long[chosen.Length];
                Morsels.For(chosen.Length, (start, end) =>
                {
                    for (var i = start; i < end; i++)
                    {
                        keys[i] = distinct[chosen[i]];
                    }
                });
                return new Block<long>(type, chosen.Length, keys);
            });
        }

        /// <summary>Rewrites each morsel's local ordinals as global ones (morsels numbered like their first one are left alone).</summary>
        private static void Renumber(int[] ordinals, int morsels, int[][] renumber) =>
            Morsels.For(ordinals.Length, morsels, (m, start, end) =>
            {
                var map = renumber[m];
                var identity = true;
                for (var i = 0; i < map.Length && identity; i++)
                {
                    identity = map[i] == i;
                }
                if (identity)
                {
                    return;
                }
                for (var p = start; p < end; p++)
                {
                    ordinals[p] = map[ordinals[p]];
                }
            });

        /// <summary>
        /// A keyword column read from a table: its dictionary codes renumbered in order of first appearance, by
        /// morsels in parallel when the dictionary is small beside the rows (each morsel keeps a table of codes).
        /// </summary>
        public static KeyColumn OfEncoded(Block<string> block, int positionCount)
        {
            var encoding = block.Encoding!;
            var codes = encoding.Codes;
            var ordinals = new int[positionCount];
            var morsels = Morsels.Count(positionCount);
            if ((long)(encoding.Dictionary.Length + 1) * morsels > positionCount)
            {
                morsels = 1;
            }
            var local = new List<int>[morsels];
            Morsels.For(positionCount, morsels, (m, start, end) =>
            {
                var remap = new int[encoding.Dictionary.Length + 1];
                Array.Fill(remap, -1);
                var seen = new List<int>();
                for (var p = start; p < end; p++)
                {
                    var code = codes[p] + 1;
                    var ordinal = remap[code];
                    if (ordinal < 0)
                    {
                        ordinal = remap[code] = seen.Count;
                        seen.Add(code - 1);
                    }
                    ordinals[p] = ordinal;
                }
                local[m] = seen;
            });
            var global = new int[encoding.Dictionary.Length + 1];
            Array.Fill(global, -1);
            var distinct = new List<int>();
            var renumber = new int[morsels][];
            for (var m = 0; m < morsels; m++)
            {
                renumber[m] = new int[local[m].Count];
                for (var i = 0; i < renumber[m].Length; i++)
                {
                    var code = local[m][i];
                    if (global[code + 1] < 0)
                    {
                        global[code + 1] = distinct.Count;
                        distinct.Add(code);
                    }
                    renumber[m][i] = global[code + 1];
                }
            }
            Renumber(ordinals, morsels, renumber);
            var type = block.Type;
            var hasNull = global[0] >= 0;
            return new KeyColumn(ordinals, null, distinct.Count, chosen =>
            {
                var keys = new string[chosen.Length];
                var nulls = hasNull ? new bool[chosen.Length] : null;
                Morsels.For(chosen.Length, (start, end) =>
                {
                    for (var i = start; i < end; i++)
                    {
                        var code = distinct[chosen[i]];
                        if (code < 0)
                        {
                            nulls![i] = true;
                        }
                        else
                        {
                            keys[i] = encoding.Dictionary[code];
                        }
                    }
                });
                return new Block<string>(type, chosen.Length, keys, nulls);
            });
        }

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
