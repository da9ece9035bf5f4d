using KeyAbuseContent.Engine.Esql.Aggregation;
using KeyAbuseContent.Engine.Esql.Commands;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Planning;

/// <summary>Binds STATS and INLINE STATS: keys over the input, aggregate calls over the input, outputs over aggregates and keys.</summary>
internal static class StatsBinder
{
    public static StatsOperator Bind(StatsCommand stats, Schema input, SourceText source, EvalContext context)
    {
        var command = stats.Inline ? "INLINE STATS" : "STATS";
        var inputBinder = new Binder(source, input, context)
        {
            AggregateHook = (call, b) => throw b.Error(call.Span, $"aggregate function [{b.Text(call)}] not allowed inside another aggregate or in BY of {command}"),
        };
        var keys = new List<Evaluator>();
        var keyAttributes = new List<Attribute>();
        foreach (var grouping in stats.Groupings)
        {
            var key = inputBinder.Bind(grouping.Value);
            if (key.Type is EsqlType.DatePeriod or EsqlType.TimeDuration)
            {
                throw source.Error(grouping.Span, $"cannot group by [{grouping.Name}] of type [{EsqlTypes.Name(key.Type)}]");
            }
            var existing = keyAttributes.FindIndex(a => a.Name == grouping.Name);
            if (existing >= 0)
            {
                keys.RemoveAt(existing);
                keyAttributes.RemoveAt(existing);
            }
            keys.Add(key);
            keyAttributes.Add(new Attribute(grouping.Name, key.Type));
        }
        var keySchema = new Schema([.. keyAttributes]);
        var specs = new List<AggregateSpec>();
        var outputs = new List<(string Name, Evaluator Value)>();
        foreach (var field in stats.Aggregates)
        {
            var filter = field.Filter is null ? null : inputBinder.BindCondition(field.Filter, $"the WHERE of [{field.Field.Name}]");
            var before = specs.Count;
            var outer = new Binder(source, keySchema, context)
            {
                AggregateInput = input,
                AggregateHook = (call, b) =>
                {
                    var spec = AggregateFunctions.Bind(call, inputBinder, filter);
                    specs.Add(spec);
                    return new FieldEvaluator(spec.Aggregator.ResultType, call.Span, b.Text(call), keySchema.Count + specs.Count - 1);
                },
            };
            var value = outer.Bind(field.Field.Value);
            if (specs.Count == before)
            {
                throw source.Error(field.Field.Value.Span, $"expected an aggregate function but found [{source.Slice(field.Field.Value.Span)}] in {command}");
            }
            outputs.RemoveAll(o => o.Name == field.Field.Name);
            outputs.Add((field.Field.Name, value));
        }
        // A key and an aggregate of one name: the key wins, as the later column of the output.
        outputs.RemoveAll(o => keySchema.IndexOf(o.Name) >= 0);
        var statsColumns = outputs.Select(o => new Attribute(o.Name, o.Value.Type)).Concat(keyAttributes).ToList();
        if (!stats.Inline)
        {
            return new StatsOperator(new Schema([.. statsColumns]), keys, specs, [.. outputs.Select(o => o.Value)], null);
        }
        var replaced = statsColumns.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        var kept = Enumerable.Range(0, input.Count).Where(i => !replaced.Contains(input[i].Name)).ToList();
        var schema = new Schema([.. kept.Select(i => input[i]).Concat(statsColumns)]);
        return new StatsOperator(schema, keys, specs, [.. outputs.Select(o => o.Value)], kept);
    }
}
