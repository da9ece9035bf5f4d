using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Commands;

/// <summary>
/// LOOKUP JOIN index ON a[, b]: a left join on equal keys. Each input row becomes one row per matching lookup
/// row, or one row with nulls when none matches; the lookup's other fields come after the input's and replace
/// input columns of the same name. A null key matches nothing; a multi-valued key, on either side, matches
/// nothing with a warning (as Elasticsearch's "LOOKUP JOIN encountered multi-value").
/// </summary>
internal sealed class LookupJoinOperator(
    Schema output,
    TextSpan span,
    string index,
    IReadOnlyList<int> inputKeys,
    IReadOnlyList<int> lookupKeys,
    IReadOnlyList<EsqlType> keyTypes,
    IReadOnlyList<int> keptInput,
    IReadOnlyList<(int Column, EsqlType Type)> added) : Operator(output)
{
    private const string MultiValue = "java.lang.IllegalArgumentException: LOOKUP JOIN encountered multi-value";

    public override Page Run(Page input, EvalContext context)
    {
        // The table is the run's: a plan bound once serves every run whose lookup index has the same columns.
        var lookup = context.Indices![index];
        var keyIndex = BuildIndex(lookup, context);
        var left = inputKeys.Select((c, k) => Cast.Retype(input.Block(c), keyTypes[k])).ToArray();
        var leftRows = new List<int>(input.PositionCount);
        var rightRows = new List<int>(input.PositionCount);
        var values = new object[left.Length];
        for (var p = 0; p < input.PositionCount; p++)
        {
            var usable = true;
            for (var k = 0; k < left.Length && usable; k++)
            {
                var n = left[k].ValueCount(p);
                if (n > 1)
                {
                    context.Warnings.Failure(span, MultiValue);
                }
                usable = n == 1;
                if (usable)
                {
                    values[k] = left[k].BoxValue(left[k].FirstValueIndex(p))!;
                }
            }
            if (usable && keyIndex.TryGetValue(new Key(values), out var matches))
            {
                foreach (var m in matches)
                {
                    leftRows.Add(p);
                    rightRows.Add(m);
                }
            }
            else
            {
                leftRows.Add(p);
                rightRows.Add(-1);
            }
        }
        var page = input.Filter([.. leftRows]).Project(keptInput);
        foreach (var (column, type) in added)
        {
            page = page.Append(LookupColumn(lookup, column, type, rightRows));
        }
        return page;
    }

    /// <summary>
    /// The lookup's rows by key: built once per lookup table and key columns when the engine keeps a cache (the
    /// same inventory or history index serves every scheduled run of a day), with the run's warnings replayed.
    /// </summary>
    private Dictionary<Key, List<int>> BuildIndex(DataTable lookup, EvalContext context)
    {
        if (context.LookupIndexes is not { } cache)
        {
            return Index(lookup, context.Warnings).Rows;
        }
        var signature = string.Join(",", lookupKeys.Select((c, k) => $"{c}:{keyTypes[k]}"));
        var (rows, multiValues) = ((Dictionary<Key, List<int>>, int))cache.GetOrAdd(lookup, signature, () =>
        {
            var built = Index(lookup, null);
            return (built.Rows, built.MultiValues);
        });
        for (var i = 0; i < multiValues; i++)
        {
            context.Warnings.Failure(span, MultiValue);
        }
        return rows;
    }

    private (Dictionary<Key, List<int>> Rows, int MultiValues) Index(DataTable lookup, Warnings? warnings)
    {
        var multiValues = 0;
        var blocks = lookupKeys.Select((c, k) => Cast.Retype(Convert(TableImport.Column(lookup, c), keyTypes[k]), keyTypes[k])).ToArray();
        var rowsByKey = new Dictionary<Key, List<int>>();
        for (var r = 0; r < lookup.Rows.Count; r++)
        {
            var values = new object[blocks.Length];
            var usable = true;
            for (var k = 0; k < blocks.Length && usable; k++)
            {
                var n = blocks[k].ValueCount(r);
                if (n > 1)
                {
                    warnings?.Failure(span, MultiValue);
                    multiValues++;
                }
                usable = n == 1;
                if (usable)
                {
                    values[k] = blocks[k].BoxValue(blocks[k].FirstValueIndex(r))!;
                }
            }
            if (usable)
            {
                var key = new Key(values);
                if (!rowsByKey.TryGetValue(key, out var rows))
                {
                    rowsByKey[key] = rows = [];
                }
                rows.Add(r);
            }
        }
        return (rowsByKey, multiValues);
    }

    /// <summary>Lookup keys of another numeric type are widened to the join's key type.</summary>
    private static Block Convert(Block block, EsqlType type)
    {
        if (EsqlTypes.Widen(block.Type) == EsqlTypes.Widen(type) || block.Type is EsqlType.Null or EsqlType.Unsupported)
        {
            return block.Type is EsqlType.Null or EsqlType.Unsupported ? Block.AllNull(type, block.PositionCount) : block;
        }
        var builder = BlockBuilder.Create(type, block.PositionCount);
        for (var p = 0; p < block.PositionCount; p++)
        {
            var value = block.BoxPosition(p);
            builder.AppendBoxed(value is null or System.Collections.Immutable.ImmutableArray<object?> ? value : Conversions.Convert(value, block.Type, type));
        }
        return builder.Build();
    }

    private static Block LookupColumn(DataTable lookup, int column, EsqlType type, List<int> rows)
    {
        var source = TableImport.Column(lookup, column);
        if (source.Type is EsqlType.Null or EsqlType.Unsupported)
        {
            return Block.AllNull(type, rows.Count);
        }
        var builder = BlockBuilder.Create(source.Type, rows.Count);
        foreach (var r in rows)
        {
            if (r < 0)
            {
                builder.AppendNull();
            }
            else
            {
                builder.CopyPosition(source, r);
            }
        }
        return Cast.Retype(builder.Build(), type);
    }

    private readonly struct Key(object[] values) : IEquatable<Key>
    {
        private readonly object[] values = values;

        public bool Equals(Key other)
        {
            for (var i = 0; i < values.Length; i++)
            {
                if (!values[i].Equals(other.values[i]))
                {
                    return false;
                }
            }
            return true;
        }

        public override bool Equals(object? obj) => obj is Key other && Equals(other);

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
