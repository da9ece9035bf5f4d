using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Patterns;
using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Commands;

/// <summary>Pulls named values out of a string: DISSECT or GROK.</summary>
internal interface IExtractor
{
    IReadOnlyList<(string Name, EsqlType Type)> Columns { get; }

    /// <summary>The values of each column for one input string, or null when it does not match.</summary>
    List<string>[]? Extract(string text);
}

internal sealed class DissectExtractor(DissectPattern pattern, string separator) : IExtractor
{
    public IReadOnlyList<(string Name, EsqlType Type)> Columns { get; } = [.. pattern.Names.Select(n => (n, EsqlType.Keyword))];

    public List<string>[]? Extract(string text)
    {
        var match = pattern.Match(text, separator);
        return match is null ? null : [.. pattern.Names.Select(n => match.TryGetValue(n, out var v) ? new List<string> { v } : [])];
    }
}

internal sealed class GrokExtractor(GrokPattern pattern, IReadOnlyList<(string Name, EsqlType Type)> columns) : IExtractor
{
    public IReadOnlyList<(string Name, EsqlType Type)> Columns { get; } = columns;

    public List<string>[]? Extract(string text) => pattern.Match(text);
}

/// <summary>
/// DISSECT and GROK: new columns from a string expression, appended after the input's (an input column of the
/// same name is replaced). A null or unmatched input gives nulls; a multi-valued input is matched value by
/// value and the results gathered as multi-values.
/// </summary>
internal sealed class ExtractOperator(Schema output, TextSpan span, Evaluator input, IExtractor extractor, IReadOnlyList<int> kept) : Operator(output)
{
    public override Page Run(Page page, EvalContext context)
    {
        var block = input.Eval(page, context);
        var count = page.PositionCount;
        var columns = extractor.Columns;
        var builders = columns.Select(c => BlockBuilder.Create(c.Type, count)).ToArray();
        var gathered = columns.Select(_ => new List<object?>()).ToArray();
        for (var p = 0; p < count; p++)
        {
            foreach (var list in gathered)
            {
                list.Clear();
            }
            var n = block.Type is EsqlType.Null ? 0 : block.ValueCount(p);
            var first = n > 0 ? block.FirstValueIndex(p) : 0;
            for (var i = 0; i < n; i++)
            {
                if (extractor.Extract((string)block.BoxValue(first + i)!) is not { } values)
                {
                    continue;
                }
                for (var c = 0; c < columns.Count; c++)
                {
                    foreach (var text in values[c])
                    {
                        gathered[c].Add(Typed(text, columns[c].Type, context));
                    }
                }
            }
            for (var c = 0; c < columns.Count; c++)
            {
                var values = gathered[c].Where(v => v is not null).ToList();
                builders[c].AppendBoxed(values.Count switch
                {
                    0 => null,
                    1 => values[0],
                    _ => values.ToImmutableArray(),
                });
            }
        }
        var result = page.Project(kept);
        foreach (var builder in builders)
        {
            result = result.Append(builder.Build());
        }
        return result;
    }

    private object? Typed(string text, EsqlType type, EvalContext context)
    {
        if (type == EsqlType.Keyword)
        {
            return text;
        }
        try
        {
            return Conversions.Convert(text, EsqlType.Keyword, type);
        }
        catch (EvaluationFailure failure)
        {
            context.Warnings.Failure(span, failure.Message);
            return null;
        }
    }
}
