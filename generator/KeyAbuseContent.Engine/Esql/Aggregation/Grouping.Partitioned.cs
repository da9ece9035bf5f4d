using KeyAbuseContent.Engine.Esql.Execution;

namespace KeyAbuseContent.Engine.Esql.Aggregation;

internal sealed partial class Grouping
{
    private const int PartitionBits = 4;
    private const int PartitionMask = (1 << PartitionBits) - 1;

    /// <summary>Rows the partitioned grouping takes: a partition's group ids keep <see cref="PartitionBits"/> bits for its number.</summary>
    private const int MaxPartitionedRows = int.MaxValue >> PartitionBits;
    /// <summary>
    /// Several single-valued keys over many rows, on every core. Each worker owns a partition of the packed keys
    /// (a range of the direct table, or a hash partition with a map of its own) and reads every row, numbering the
    /// groups of its partition in order of first appearance: no two workers ever see one group, so nothing is
    /// merged but the lists of first rows. Interleaving those by row gives the group ids one thread would give.
    /// </summary>
    private static Grouping CombinePartitioned(KeyColumn[] columns, KeyColumn[] packing, long product, bool direct, int[] rows)
    {
        var positionCount = rows.Length;
        var partitions = Math.Min(Environment.ProcessorCount, 1 << PartitionBits);
        var groups = new int[positionCount];
        int[]? table = null;
        if (direct)
        {
            var directTable = table = new int[product];
            Morsels.For(directTable.Length, (start, end) => directTable.AsSpan(start, end - start).Fill(-1));
        }
        var firstRows = new int[partitions][];
        var counts = new int[partitions];
        Parallel.For(0, partitions, w =>
        {
            var first = new int[1024];
            var count = 0;
            var map = table is null ? new LongIntHashMap(Math.Min(positionCount / partitions, 1 << 20)) : null;
            var (low, high) = (product * w / partitions, product * (w + 1) / partitions);
            for (var p = 0; p < positionCount; p++)
            {
                var packed = Pack(packing, p);
                if (direct ? packed < low || packed >= high : HashPartition(packed, partitions) != w)
                {
                    continue;
                }
                int group;
                if (table is not null)
                {
                    group = table[packed];
                    if (group < 0)
                    {
                        group = table[packed] = count;
                    }
                }
                else
                {
                    group = map!.GetOrAdd(packed);
                }
                if (group == count)
                {
                    if (count == first.Length)
                    {
                        Array.Resize(ref first, count * 2);
                    }
                    first[count++] = p;
                }
                // The partition rides in the low bits until the ids are global.
                groups[p] = (group << PartitionBits) | w;
            }
            firstRows[w] = first;
            counts[w] = count;
        });

        // The partitions' groups, each list in row order, merged by first row.
        var total = 0;
        foreach (var c in counts)
        {
            total += c;
        }
        var firstRow = new int[total];
        var global = new int[partitions][];
        var heads = new int[partitions];
        for (var w = 0; w < partitions; w++)
        {
            global[w] = new int[counts[w]];
        }
        for (var g = 0; g < total; g++)
        {
            var best = -1;
            var bestRow = int.MaxValue;
            for (var w = 0; w < partitions; w++)
            {
                if (heads[w] < counts[w] && firstRows[w][heads[w]] < bestRow)
                {
                    best = w;
                    bestRow = firstRows[w][heads[w]];
                }
            }
            global[best][heads[best]++] = g;
            firstRow[g] = bestRow;
        }
        Morsels.For(positionCount, (start, end) =>
        {
            for (var p = start; p < end; p++)
            {
                var tagged = groups[p];
                groups[p] = global[tagged & PartitionMask][tagged >>> PartitionBits];
            }
        });
        var keyOrdinals = new int[columns.Length][];
        for (var k = 0; k < columns.Length; k++)
        {
            var ordinals = columns[k].Ordinals;
            var chosen = keyOrdinals[k] = new int[total];
            Morsels.For(total, (start, end) =>
            {
                for (var g = start; g < end; g++)
                {
                    chosen[g] = ordinals[firstRow[g]];
                }
            });
        }
        return new Grouping(total, rows, groups, true, [.. columns.Select((c, k) => c.KeyBlock(keyOrdinals[k]))]);
    }

    /// <summary>
    /// The hash partition of a packed key: bits of a second hash, since the maps slot keys by the top bits of
    /// another multiplier and a partition's keys must still spread over its whole map.
    /// </summary>
    private static int HashPartition(long packed, int partitions) =>
        (int)(((ulong)(packed * unchecked((long)0xC2B2AE3D27D4EB4FUL)) >> 32) * (ulong)partitions >> 32);
}
