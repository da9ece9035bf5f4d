using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Kql.Execution.Tabular;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>
/// <c>in</c>, <c>!in</c>, <c>in~</c>, <c>!in~</c>, <c>has_any</c> and <c>has_all</c> against a list of values: literals,
/// dynamic arrays (their elements count) and tabular subqueries (their first column). The list is built once a run.
/// </summary>
internal sealed class InNode : ScalarNode
{
    private readonly string _op;
    private readonly ScalarNode _left;
    private readonly ImmutableArray<ScalarNode> _items;
    private readonly ImmutableArray<TabularNode> _subqueries;

    public InNode(string op, ScalarNode left, ImmutableArray<ScalarNode> items, ImmutableArray<TabularNode> subqueries)
        : base(KqlType.Bool)
    {
        _op = op;
        _left = left;
        _items = items;
        _subqueries = subqueries;
    }

    public override IEnumerable<ScalarNode> Children => [_left, .. _items];

    public override bool Foldable => _subqueries.IsEmpty;

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var n = input.RowCount;
        var left = _left.Evaluate(input, context);
        if (!_items.All(i => i.IsConstant))
        {
            return EvaluateRowWise(input, context, left);
        }
        var values = context.Once(this, () => Values(context, row: null, input: null));
        var negated = _op.StartsWith('!');
        var result = new bool[n];
        if (_op is "has_any" or "has_all")
        {
            var needles = values.Select(Scalars.ToKqlString).ToArray();
            var texts = ColumnViews.Strings(left);
            for (var i = 0; i < n; i++)
            {
                result[i] = HasList(texts[i], needles);
            }
            return ColumnViews.BoolColumn(result, null);
        }
        var caseInsensitive = _op.EndsWith('~');
        if (left.Type == KqlType.String || caseInsensitive)
        {
            var set = new HashSet<string>(values.Where(v => v is not null).Select(Scalars.ToKqlString),
                caseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            var texts = ColumnViews.Strings(left);
            for (var i = 0; i < n; i++)
            {
                result[i] = set.Contains(texts[i]) != negated;
            }
            return ColumnViews.BoolColumn(result, null);
        }
        if (left.Type.IsTicksOrLong() || left.Type == KqlType.Int)
        {
            var set = new HashSet<long>();
            foreach (var v in values)
            {
                if (ScalarValue(v) is long or int or DateTime or TimeSpan && ColumnViews.ConstantLong(ScalarValue(v)) is { } l)
                {
                    set.Add(l);
                }
                else if (ScalarValue(v) is double d && d == Math.Floor(d) && double.IsFinite(d))
                {
                    set.Add((long)d);
                }
            }
            var (longs, nulls) = ColumnViews.Longs(left);
            for (var i = 0; i < n; i++)
            {
                result[i] = (nulls is null || !nulls[i]) ? set.Contains(longs[i]) != negated : negated;
            }
            return ColumnViews.BoolColumn(result, null);
        }
        var materialized = left.Materialize();
        for (var i = 0; i < n; i++)
        {
            result[i] = Contains(values, materialized.GetValue(i)) != negated;
        }
        return ColumnViews.BoolColumn(result, null);
    }

    private bool HasList(string text, string[] needles)
    {
        if (_op == "has_any")
        {
            foreach (var needle in needles)
            {
                if (StringPredicates.Test("has", text, needle))
                {
                    return true;
                }
            }
            return false;
        }
        foreach (var needle in needles)
        {
            if (!StringPredicates.Test("has", text, needle))
            {
                return false;
            }
        }
        return true;
    }

    private static bool Contains(List<object?> values, object? value)
    {
        if (value is null)
        {
            return false;
        }
        foreach (var v in values)
        {
            if (v is not null && Ordering.ValuesEqual(ScalarValue(v)!, ScalarValue(value)!))
            {
                return true;
            }
        }
        return false;
    }

    private static object? ScalarValue(object? v) => v is JsonNode node ? Scalars.DynamicScalar(node) : v;

    /// <summary>The list's values: item values with dynamic arrays flattened, then each subquery's first column.</summary>
    private List<object?> Values(QueryContext context, int? row, Column[]? input)
    {
        var values = new List<object?>();
        for (var i = 0; i < _items.Length; i++)
        {
            var value = input is null ? _items[i].ConstantValue : input[i].GetValue(row!.Value);
            if (value is JsonArray array)
            {
                values.AddRange(array.Select(e => Scalars.DynamicScalar(e)));
            }
            else
            {
                values.Add(value);
            }
        }
        foreach (var query in _subqueries)
        {
            var rows = context.Once(query, () => query.Execute(context));
            if (rows.Columns.Length > 0)
            {
                var column = rows.Columns[0].Materialize();
                for (var r = 0; r < rows.RowCount; r++)
                {
                    var value = column.GetValue(r);
                    if (value is JsonArray array)
                    {
                        values.AddRange(array.Select(e => Scalars.DynamicScalar(e)));
                    }
                    else
                    {
                        values.Add(value);
                    }
                }
            }
        }
        return values;
    }

    private Column EvaluateRowWise(RowSet input, QueryContext context, Column left)
    {
        var n = input.RowCount;
        var items = _items.Select(i => i.Evaluate(input, context).Materialize()).ToArray();
        var l = left.Materialize();
        var result = new bool[n];
        var negated = _op.StartsWith('!');
        var caseInsensitive = _op.EndsWith('~');
        for (var r = 0; r < n; r++)
        {
            var values = Values(context, r, items);
            var value = l.GetValue(r);
            if (_op is "has_any" or "has_all")
            {
                result[r] = HasList(Scalars.ToKqlString(value), [.. values.Select(Scalars.ToKqlString)]);
            }
            else if (caseInsensitive || value is string)
            {
                var text = Scalars.ToKqlString(value);
                var comparison = caseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                result[r] = values.Any(v => string.Equals(Scalars.ToKqlString(v), text, comparison)) != negated;
            }
            else
            {
                result[r] = Contains(values, value) != negated;
            }
        }
        return ColumnViews.BoolColumn(result, null);
    }
}
