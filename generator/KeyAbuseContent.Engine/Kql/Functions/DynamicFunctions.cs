using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Functions;

// Functions over dynamic arrays and property bags. Results are new nodes: inputs are never modified.
internal static partial class ScalarFunctions
{
    private static IEnumerable<ScalarFunction> Dynamics()
    {
        yield return F("array_length", 1, 1, ResultNaming.None, c => c.Row(KqlType.Long, a => a[0] is JsonArray array ? array.Count : null));
        yield return F("pack_array", 1, 64, ResultNaming.None, c => c.Row(KqlType.Dynamic, a => DynamicValues.NewArray(a)));
        yield return F("set_has_element", 2, 2, ResultNaming.None, c => c.Row(KqlType.Bool, a =>
            a[0] is JsonArray array ? array.Any(e => SameValue(e, a[1])) : null));
        yield return F("array_index_of", 2, 5, ResultNaming.None, c => c.Row(KqlType.Long, ArrayIndexOf));
        yield return F("array_concat", 1, 64, ResultNaming.None, c => c.Row(KqlType.Dynamic, a =>
            a.All(v => v is JsonArray) ? DynamicValues.NewArray(a.SelectMany(v => (JsonArray)v!)) : null));
        yield return F("array_slice", 3, 3, ResultNaming.None, c => c.Row(KqlType.Dynamic, a =>
        {
            if (a[0] is not JsonArray array || Scalars.ToLong(a[1]) is not { } start || Scalars.ToLong(a[2]) is not { } end)
            {
                return null;
            }
            start = start < 0 ? Math.Max(0, array.Count + start) : start;
            end = end < 0 ? array.Count + end : Math.Min(end, array.Count - 1);
            return DynamicValues.NewArray(start > end ? [] : array.Skip((int)start).Take((int)(end - start + 1)));
        }));
        yield return F("array_reverse", 1, 1, ResultNaming.None, c => c.Row(KqlType.Dynamic, a => a[0] is JsonArray array ? DynamicValues.NewArray(array.Reverse()) : null));
        yield return F("array_sum", 1, 1, ResultNaming.None, c => c.Row(KqlType.Real, a =>
        {
            if (a[0] is not JsonArray array)
            {
                return null;
            }
            var sum = 0.0;
            foreach (var e in array)
            {
                if (Scalars.ToReal(Scalars.DynamicScalar(e)) is not { } v)
                {
                    return null;
                }
                sum += v;
            }
            return sum;
        }));
        yield return F("bag_keys", 1, 1, ResultNaming.None, c => c.Row(KqlType.Dynamic, a => a[0] is JsonObject bag ? DynamicValues.NewArray(bag.Select(p => p.Key)) : null));
        yield return F("bag_has_key", 2, 2, ResultNaming.None, c => c.Row(KqlType.Bool, a => a[0] is JsonObject bag && bag.ContainsKey(Scalars.ToKqlString(a[1]))));
        yield return F("bag_pack", 0, 128, ResultNaming.None, BagPack);
        yield return F("pack", 0, 128, ResultNaming.None, BagPack);
        yield return F("set_union", 2, 64, ResultNaming.None, c => c.Row(KqlType.Dynamic, a => SetOperation(a, (x, y) => x.Concat(y))));
        yield return F("set_intersect", 2, 64, ResultNaming.None, c => c.Row(KqlType.Dynamic, a => SetOperation(a, (x, y) => x.Where(e => y.Any(f => SameValue(e, f))))));
        yield return F("set_difference", 2, 64, ResultNaming.None, c => c.Row(KqlType.Dynamic, a => SetOperation(a, (x, y) => x.Where(e => !y.Any(f => SameValue(e, f))))));
        yield return F("range", 2, 3, ResultNaming.None, c => c.Row(KqlType.Dynamic, DynamicRange));
        yield return F("zip", 2, 16, ResultNaming.None, c => c.Row(KqlType.Dynamic, a =>
        {
            if (!a.All(v => v is JsonArray))
            {
                return null;
            }
            var arrays = a.Cast<JsonArray>().ToList();
            var length = arrays.Max(x => x.Count);
            return new JsonArray([.. Enumerable.Range(0, length).Select(i => (JsonNode?)DynamicValues.NewArray(arrays.Select(x => i < x.Count ? x[i] : null)))]);
        }));
        yield return F("dynamic_to_json", 1, 1, ResultNaming.None, c => c.Row(KqlType.String, a => Scalars.Json(Sorted(Scalars.ToDynamic(a[0])))));
        yield return F("repeat", 2, 2, ResultNaming.NameAndFirstArgument, c => c.Row(KqlType.Dynamic, a =>
            Scalars.ToLong(a[1]) is { } n ? DynamicValues.NewArray(Enumerable.Repeat(a[0], (int)Math.Clamp(n, 0, 1_000_000))) : null));
    }

    /// <summary>A copy of a value with the keys of every bag in ordinal order (dynamic_to_json's canonical form).</summary>
    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject bag => new JsonObject(bag.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Sorted)]),
        _ => Scalars.Detached(node),
    };

    /// <summary>array_index_of(array, value[, start[, length[, occurrence]]]): like indexof, over elements.</summary>
    private static object? ArrayIndexOf(object?[] a)
    {
        if (a[0] is not JsonArray array)
        {
            return null;
        }
        var start = a.Length > 2 ? Scalars.ToLong(a[2]) ?? 0 : 0;
        var length = a.Length > 3 ? Scalars.ToLong(a[3]) ?? -1 : -1;
        var occurrence = a.Length > 4 ? Scalars.ToLong(a[4]) ?? 1 : 1;
        if (start < 0)
        {
            start = Math.Max(0, array.Count + start);
        }
        if (start > array.Count || occurrence < 1)
        {
            return null;
        }
        var end = length < 0 ? array.Count : (int)Math.Min(array.Count, start + length);
        for (var i = (int)start; i < end; i++)
        {
            if (SameValue(array[i], a[1]) && --occurrence == 0)
            {
                return (long)i;
            }
        }
        return -1L;
    }

    /// <summary>Whether an array element holds a value (elements and values compare as their scalars).</summary>
    private static bool SameValue(JsonNode? element, object? value)
    {
        var a = Scalars.DynamicScalar(element);
        var b = value is JsonNode n ? Scalars.DynamicScalar(n) : value;
        if (a is null || b is null)
        {
            return a is null && b is null;
        }
        return Ordering.ValuesEqual(a, b);
    }

    private static ScalarNode BagPack(FunctionCall call)
    {
        if (call.Args.Length % 2 != 0)
        {
            throw call.Error($"{call.Name}() takes pairs of key and value");
        }
        return call.Row(KqlType.Dynamic, a =>
        {
            var bag = new JsonObject();
            for (var i = 0; i + 1 < a.Length; i += 2)
            {
                bag[Scalars.ToKqlString(a[i])] = Scalars.Detached(Scalars.ToDynamic(a[i + 1]));
            }
            return bag;
        });
    }

    private static object? SetOperation(object?[] a, Func<IEnumerable<JsonNode?>, IEnumerable<JsonNode?>, IEnumerable<JsonNode?>> combine)
    {
        if (!a.All(v => v is JsonArray))
        {
            return null;
        }
        IEnumerable<JsonNode?> result = (JsonArray)a[0]!;
        foreach (var next in a.Skip(1))
        {
            result = combine(result.ToList(), (JsonArray)next!);
        }
        var distinct = new List<JsonNode?>();
        foreach (var e in result)
        {
            if (!distinct.Any(d => SameValue(d, e)))
            {
                distinct.Add(e);
            }
        }
        return DynamicValues.NewArray(distinct);
    }

    /// <summary>range(start, stop[, step]) as a dynamic array: numbers, datetimes or timespans, both ends included.</summary>
    private static object? DynamicRange(object?[] a)
    {
        if (a.Any(v => v is null))
        {
            return null;
        }
        const int Limit = 1_048_576;
        var values = new List<object?>();
        if (a[0] is DateTime or TimeSpan)
        {
            var start = a[0] is DateTime d ? d.Ticks : ((TimeSpan)a[0]!).Ticks;
            var stop = a[1] is DateTime e ? e.Ticks : Scalars.ToTimeSpan(a[1])?.Ticks ?? 0;
            var step = a.Length > 2 ? Scalars.ToTimeSpan(a[2])?.Ticks ?? 0 : TimeSpan.TicksPerDay;
            for (var v = start; step != 0 && (step > 0 ? v <= stop : v >= stop) && values.Count < Limit; v += step)
            {
                values.Add(a[0] is DateTime ? new DateTime(v, DateTimeKind.Utc) : new TimeSpan(v));
            }
            return DynamicValues.NewArray(values);
        }
        if (a.Any(v => v is double))
        {
            var (start, stop, step) = (Scalars.ToReal(a[0])!.Value, Scalars.ToReal(a[1])!.Value, a.Length > 2 ? Scalars.ToReal(a[2]) ?? 1 : 1);
            for (var i = 0; step != 0 && (step > 0 ? start + (i * step) <= stop : start + (i * step) >= stop) && values.Count < Limit; i++)
            {
                values.Add(start + (i * step));
            }
            return DynamicValues.NewArray(values);
        }
        var (ls, le, lstep) = (Scalars.ToLong(a[0])!.Value, Scalars.ToLong(a[1])!.Value, a.Length > 2 ? Scalars.ToLong(a[2]) ?? 1 : 1);
        for (var v = ls; lstep != 0 && (lstep > 0 ? v <= le : v >= le) && values.Count < Limit; v += lstep)
        {
            values.Add(v);
        }
        return DynamicValues.NewArray(values);
    }
}
