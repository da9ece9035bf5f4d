using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>A join key: a left and a right column, and the type their values are compared in.</summary>
internal sealed record JoinKey(int Left, int Right, KqlType Domain);

/// <summary>Where an output column of a join comes from.</summary>
internal sealed record JoinOutput(bool FromLeft, int Ordinal);

/// <summary>
/// Hash equi-join on key columns, for every join kind and for lookup. innerunique (the default) keeps the first
/// left row of each key, then joins it with every matching right row. Null keys match each other.
/// </summary>
internal sealed class JoinNode : TabularNode
{
    private readonly TabularNode _left;
    private readonly TabularNode _right;
    private readonly string _kind;
    private readonly ImmutableArray<JoinKey> _keys;
    private readonly ImmutableArray<JoinOutput> _outputs;

    public JoinNode(TabularNode left, TabularNode right, string kind, ImmutableArray<JoinKey> keys, TableSchema schema, ImmutableArray<JoinOutput> outputs)
        : base(schema)
    {
        _left = left;
        _right = right;
        _kind = kind;
        _keys = keys;
        _outputs = outputs;
    }

    public override RowSet Execute(QueryContext context)
    {
        var left = _left.Execute(context);
        var right = _right.Execute(context);
        var (leftIds, rightIds, count) = KeyIds(left, right);

        // Right rows bucketed by key id (counting sort), in right order.
        var starts = new int[count + 1];
        foreach (var id in rightIds)
        {
            starts[id + 1]++;
        }
        for (var i = 0; i < count; i++)
        {
            starts[i + 1] += starts[i];
        }
        var bucket = new int[rightIds.Length];
        var fill = (int[])starts.Clone();
        for (var r = 0; r < rightIds.Length; r++)
        {
            bucket[fill[rightIds[r]]++] = r;
        }

        var leftRows = new List<int>();
        var rightRows = new List<int>();
        var leftHasId = new bool[count];
        foreach (var id in leftIds)
        {
            leftHasId[id] = true;
        }
        var usedLeftId = _kind == "innerunique" ? new bool[count] : null;
        for (var l = 0; l < leftIds.Length; l++)
        {
            var id = leftIds[l];
            var matches = starts[id + 1] - starts[id];
            switch (_kind)
            {
                case "innerunique":
                    if (usedLeftId![id])
                    {
                        continue;
                    }
                    usedLeftId[id] = true;
                    AddPairs(l, id);
                    break;
                case "inner":
                    AddPairs(l, id);
                    break;
                case "leftouter" or "fullouter":
                    if (matches == 0)
                    {
                        leftRows.Add(l);
                        rightRows.Add(-1);
                    }
                    else
                    {
                        AddPairs(l, id);
                    }
                    break;
                case "rightouter":
                    AddPairs(l, id);
                    break;
                case "leftanti" when matches == 0:
                case "leftsemi" when matches > 0:
                    leftRows.Add(l);
                    break;
                default:
                    break;
            }
        }
        if (_kind is "rightouter" or "fullouter" or "rightanti" or "rightsemi")
        {
            for (var r = 0; r < rightIds.Length; r++)
            {
                var matched = leftHasId[rightIds[r]];
                if (_kind == "rightsemi" ? matched : !matched)
                {
                    leftRows.Add(-1);
                    rightRows.Add(r);
                }
            }
        }

        var leftPicks = leftRows.ToArray();
        var rightPicks = rightRows.ToArray();
        var n = leftPicks.Length;
        var columns = new Column[_outputs.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            var output = _outputs[i];
            columns[i] = output.FromLeft ? left.Columns[output.Ordinal].Gather(leftPicks) : right.Columns[output.Ordinal].Gather(rightPicks);
        }
        return new RowSet(Schema, columns, n);

        void AddPairs(int l, int id)
        {
            for (var k = starts[id]; k < starts[id + 1]; k++)
            {
                leftRows.Add(l);
                rightRows.Add(bucket[k]);
            }
        }
    }

    /// <summary>A dense id per distinct key, shared by both sides.</summary>
    private (int[] Left, int[] Right, int Count) KeyIds(RowSet left, RowSet right)
    {
        var total = left.RowCount + right.RowCount;
        var codes = new List<int[]>();
        var firstCardinality = 0;
        foreach (var key in _keys)
        {
            var encoder = KeyEncoder.For(key.Domain);
            var l = encoder.Encode(left.Columns[key.Left]);
            var r = encoder.Encode(right.Columns[key.Right]);
            var both = new int[total];
            l.CopyTo(both, 0);
            r.CopyTo(both, l.Length);
            codes.Add(both);
            if (codes.Count == 1)
            {
                firstCardinality = encoder.Cardinality;
            }
        }
        var (ids, count) = KeyEncoder.Combine(codes, total, firstCardinality);
        return (ids[..left.RowCount], ids[left.RowCount..], count);
    }
}
