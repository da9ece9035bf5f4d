using System.Collections.Frozen;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Functions;

/// <summary>The built-in scalar functions of the subset, by name.</summary>
internal static partial class ScalarFunctions
{
    private static readonly FrozenDictionary<string, ScalarFunction> All =
        Conversions().Concat(Control()).Concat(DateTimes()).Concat(Strings()).Concat(Dynamics()).Concat(Maths()).Concat(Addresses())
            .ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    public static bool TryGet(string name, out ScalarFunction function) => All.TryGetValue(name, out function!);

    public static IEnumerable<string> Names => All.Keys;

    private static ScalarFunction F(string name, int min, int max, ResultNaming naming, Func<FunctionCall, ScalarNode> bind) =>
        new(name, min, max, naming, bind);

    private static IEnumerable<ScalarFunction> Conversions()
    {
        yield return F("tostring", 1, 1, ResultNaming.FirstArgument, c => c.Args[0].Type == KqlType.String ? c.Args[0] : c.Row(KqlType.String, a => Scalars.ToKqlString(a[0])));
        yield return F("tolong", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.Long, v => Scalars.ToLong(v)));
        yield return F("toint", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.Int, v => Scalars.ToInt(v)));
        yield return F("todouble", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.Real, v => Scalars.ToReal(v)));
        yield return F("toreal", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.Real, v => Scalars.ToReal(v)));
        yield return F("tobool", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.Bool, v => Scalars.ToBool(v)));
        yield return F("toboolean", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.Bool, v => Scalars.ToBool(v)));
        yield return F("todatetime", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.DateTime, v => v is long or int or double ? null : Scalars.ToDateTime(v)));
        yield return F("totimespan", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.TimeSpan, v => Scalars.ToTimeSpan(v)));
        yield return F("totime", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.TimeSpan, v => Scalars.ToTimeSpan(v)));
        yield return F("toguid", 1, 1, ResultNaming.FirstArgument, c => Convert(c, KqlType.Guid, v => Scalars.ToGuid(v)));
        yield return F("todynamic", 1, 1, ResultNaming.FirstArgument, ParseJson);
        yield return F("parse_json", 1, 1, ResultNaming.FirstArgument, ParseJson);
        yield return F("tohex", 1, 2, ResultNaming.FirstArgument, c => c.Row(KqlType.String, a =>
        {
            if (Scalars.ToLong(a[0]) is not { } v)
            {
                return null;
            }
            var width = a.Length > 1 ? (int)(Scalars.ToLong(a[1]) ?? 0) : 0;
            return v.ToString("x", System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0');
        }));
    }

    private static ScalarNode Convert(FunctionCall call, KqlType type, Func<object, object?> convert) =>
        call.Args[0].Type == type ? call.Args[0] : call.Row1(type, convert);

    /// <summary>parse_json/todynamic: a string is parsed as JSON (a string that is not JSON stays a string); other values become dynamic.</summary>
    private static ScalarNode ParseJson(FunctionCall call) => call.Args[0].Type == KqlType.Dynamic
        ? call.Args[0]
        : call.Row(KqlType.Dynamic, a => a[0] switch
        {
            null => null,
            string s => DynamicValues.Parse(s),
            var v => Scalars.ToDynamic(v),
        });

    private static IEnumerable<ScalarFunction> Control()
    {
        yield return F("iff", 3, 3, ResultNaming.None, Iff);
        yield return F("iif", 3, 3, ResultNaming.None, Iff);
        yield return F("case", 3, 255, ResultNaming.None, Case);
        yield return F("coalesce", 1, 64, ResultNaming.None, Coalesce);
        yield return F("max_of", 1, 64, ResultNaming.None, c => Extreme(c, max: true));
        yield return F("min_of", 1, 64, ResultNaming.None, c => Extreme(c, max: false));
        yield return F("isnull", 1, 1, ResultNaming.None, c => new NullTestNode(c.Args[0], empty: false, negated: false));
        yield return F("isnotnull", 1, 1, ResultNaming.None, c => new NullTestNode(c.Args[0], empty: false, negated: true));
        yield return F("isempty", 1, 1, ResultNaming.None, c => new NullTestNode(c.Args[0], empty: true, negated: false));
        yield return F("isnotempty", 1, 1, ResultNaming.None, c => new NullTestNode(c.Args[0], empty: true, negated: true));
        yield return F("assert", 2, 2, ResultNaming.None, c =>
        {
            c.Expect(0, t => t == KqlType.Bool, "a bool");
            return c.Row(KqlType.Bool, a => a[0] is false ? throw c.RuntimeError("assert: " + Scalars.ToKqlString(a[1])) : a[0]);
        });
        yield return F("not", 1, 1, ResultNaming.None, c =>
        {
            c.Expect(0, t => t is KqlType.Bool or KqlType.Dynamic, "a bool");
            return new NotNode(c.Args[0]);
        });
    }

    /// <summary>The type several values share: the same type, the widest number, or dynamic with dynamic.</summary>
    public static KqlType? CommonType(IEnumerable<KqlType> types)
    {
        var list = types.Distinct().ToList();
        if (list.Count == 1)
        {
            return list[0];
        }
        if (list.All(t => t.IsNumeric()))
        {
            return list.Contains(KqlType.Real) ? KqlType.Real : KqlType.Long;
        }
        return null;
    }

    private static KqlType Common(FunctionCall call, IEnumerable<int> indexes)
    {
        var types = indexes.Select(call.Type).ToList();
        return CommonType(types) ?? throw call.Error($"{call.Name}(): the values have different types ({string.Join(", ", types.Select(t => t.Name()))})");
    }

    /// <summary>iff(condition, then, else): a null condition takes the else branch.</summary>
    private static ScalarNode Iff(FunctionCall call)
    {
        call.Expect(0, t => t is KqlType.Bool or KqlType.Dynamic, "a bool");
        var type = Common(call, [1, 2]);
        return call.Row(type, a => Scalars.ToBool(a[0]) == true ? a[1] : a[2]);
    }

    private static ScalarNode Case(FunctionCall call)
    {
        if (call.Args.Length % 2 == 0)
        {
            throw call.Error("case() takes pairs of predicate and value, then the else value");
        }
        var valueIndexes = Enumerable.Range(0, call.Args.Length).Where(i => i % 2 == 1 || i == call.Args.Length - 1).ToList();
        var type = Common(call, valueIndexes);
        return call.Row(type, a =>
        {
            for (var i = 0; i + 1 < a.Length; i += 2)
            {
                if (Scalars.ToBool(a[i]) == true)
                {
                    return a[i + 1];
                }
            }
            return a[^1];
        });
    }

    /// <summary>The first value that is not null (for strings, not empty).</summary>
    private static ScalarNode Coalesce(FunctionCall call)
    {
        var type = Common(call, Enumerable.Range(0, call.Args.Length));
        if (!call.Args.All(a => a.IsConstant) && CoalesceNode.TryCreate(type, call.Args) is { } typed)
        {
            return typed;
        }
        return call.Row(type, a =>
        {
            foreach (var v in a)
            {
                if (v is not null && !(v is string { Length: 0 }) && !(v is System.Text.Json.Nodes.JsonNode n && Scalars.DynamicScalar(n) is null))
                {
                    return v;
                }
            }
            return type == KqlType.String ? "" : null;
        });
    }

    /// <summary>max_of/min_of: the largest or smallest non-null argument.</summary>
    private static ScalarNode Extreme(FunctionCall call, bool max)
    {
        var type = Common(call, Enumerable.Range(0, call.Args.Length));
        return call.Row(type, a =>
        {
            object? best = null;
            foreach (var v in a)
            {
                if (v is null)
                {
                    continue;
                }
                if (best is null || (Ordering.Compare(v, best) is { } c && (max ? c > 0 : c < 0)))
                {
                    best = v;
                }
            }
            return best;
        });
    }
}
