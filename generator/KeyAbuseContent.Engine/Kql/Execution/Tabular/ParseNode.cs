using System.Collections.Immutable;
using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>A column <c>parse</c> extracts: its regex group, type, and output place.</summary>
internal sealed record ParseColumn(string Group, KqlType Type, int OutputOrdinal);

/// <summary>
/// <c>parse</c>: matches the source text with a regular expression built from the pattern and extracts the columns.
/// A row that does not match, or (kind simple and regex) whose value does not convert to its column's type, gets
/// nulls in every extracted column; kind relaxed nulls only the column that does not convert.
/// </summary>
internal sealed class ParseNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly ScalarNode _source;
    private readonly Regex _regex;
    private readonly ImmutableArray<ParseColumn> _columns;
    private readonly bool _relaxed;

    public ParseNode(TabularNode input, TableSchema schema, ScalarNode source, Regex regex, ImmutableArray<ParseColumn> columns, bool relaxed)
        : base(schema)
    {
        _input = input;
        _source = source;
        _regex = regex;
        _columns = columns;
        _relaxed = relaxed;
    }

    public override RowSet Execute(QueryContext context)
    {
        var input = _input.Execute(context);
        var texts = ColumnViews.Strings(_source.Evaluate(input, context));
        var builders = _columns.Select(c => ColumnBuilder.Create(c.Type, input.RowCount)).ToArray();
        var values = new object?[_columns.Length];
        for (var r = 0; r < input.RowCount; r++)
        {
            var match = _regex.Match(texts[r]);
            var ok = match.Success;
            for (var c = 0; c < _columns.Length && ok; c++)
            {
                var text = match.Groups[_columns[c].Group].Value;
                values[c] = Convert(text, _columns[c].Type);
                if (values[c] is null && !_relaxed)
                {
                    ok = false;
                }
            }
            for (var c = 0; c < _columns.Length; c++)
            {
                builders[c].Add(ok || _relaxed && match.Success ? values[c] : null);
            }
        }
        var columns = (Column[])input.Columns.Clone();
        Array.Resize(ref columns, Schema.Count);
        for (var c = 0; c < _columns.Length; c++)
        {
            columns[_columns[c].OutputOrdinal] = builders[c].Build();
        }
        return new RowSet(Schema, columns, input.RowCount);
    }

    private static object? Convert(string text, KqlType type) => type switch
    {
        KqlType.String => text,
        KqlType.Long => Scalars.ToLong(text),
        KqlType.Int => Scalars.ToInt(text),
        KqlType.Real => Scalars.ToReal(text),
        KqlType.Bool => Scalars.ToBool(text),
        KqlType.DateTime => Scalars.ToDateTime(text),
        KqlType.TimeSpan => Scalars.ToTimeSpan(text),
        KqlType.Guid => Scalars.ToGuid(text),
        _ => Scalars.ToDynamic(text),
    };
}
