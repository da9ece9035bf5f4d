using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>
/// <c>coalesce</c> of numbers, datetimes or timespans over typed arrays: each row takes the first argument that is
/// not null there. The parsers' <c>coalesce(InputTokens, 0) + coalesce(OutputTokens, 0)</c> runs over every event a
/// rule reads, so it does not box. Strings and dynamics keep the row-wise path (an empty string counts as missing).
/// </summary>
internal sealed class CoalesceNode : ScalarNode
{
    private readonly ImmutableArray<ScalarNode> _arguments;

    private CoalesceNode(KqlType type, ImmutableArray<ScalarNode> arguments)
        : base(type)
    {
        _arguments = arguments;
    }

    public override IEnumerable<ScalarNode> Children => _arguments;

    /// <summary>The typed node when <paramref name="type"/> and every argument's type allow it; null otherwise.</summary>
    public static CoalesceNode? TryCreate(KqlType type, ImmutableArray<ScalarNode> arguments)
    {
        var typed = type switch
        {
            KqlType.Long => arguments.All(a => a.Type is KqlType.Long or KqlType.Int),
            KqlType.Real => arguments.All(a => a.Type is KqlType.Real or KqlType.Long or KqlType.Int),
            KqlType.DateTime or KqlType.TimeSpan => arguments.All(a => a.Type == type),
            _ => false,
        };
        return typed ? new CoalesceNode(type, arguments) : null;
    }

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var n = input.RowCount;
        var columns = _arguments.Select(a => a.Evaluate(input, context)).ToArray();
        return Type == KqlType.Real
            ? Coalesce(columns, n, ColumnViews.ConstantDouble, ColumnViews.Doubles)
            : Coalesce(columns, n, ColumnViews.ConstantLong, ColumnViews.Longs);
    }

    /// <summary>Each row's first non-null argument, read through the typed view of <typeparamref name="T"/>.</summary>
    private ValueColumn<T> Coalesce<T>(Column[] columns, int n, Func<object?, T?> constantOf, Func<Column, (T[] Values, bool[]? Nulls)> view)
        where T : unmanaged
    {
        var values = new T[n];
        var missing = new bool[n];
        Array.Fill(missing, true);
        var left = n;
        foreach (var column in columns)
        {
            if (left == 0)
            {
                break;
            }
            if (column is ConstantColumn c)
            {
                if (constantOf(c.Value) is { } constant)
                {
                    for (var r = 0; r < n; r++)
                    {
                        if (missing[r])
                        {
                            (values[r], missing[r]) = (constant, false);
                        }
                    }
                    left = 0;
                }
                continue;
            }
            var (source, nulls) = view(column);
            for (var r = 0; r < n; r++)
            {
                if (missing[r] && (nulls is null || !nulls[r]))
                {
                    (values[r], missing[r]) = (source[r], false);
                    left--;
                }
            }
        }
        return new ValueColumn<T>(Type, values, left == 0 ? null : missing, n);
    }
}
