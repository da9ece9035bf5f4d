using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>A call being bound: its syntax, its bound arguments, and the checks every function shares.</summary>
internal sealed class FunctionCall(CallExpr syntax, ImmutableArray<Evaluator> args, Binder binder)
{
    public CallExpr Syntax { get; } = syntax;

    public ImmutableArray<Evaluator> Args { get; private set; } = args;

    public Binder Binder { get; } = binder;

    public TextSpan Span => Syntax.Span;

    public string Name => Syntax.Name.ToUpperInvariant();

    public int Count => Args.Length;

    public string Text => Binder.Text(Syntax);

    public EsqlType Type(int i) => EsqlTypes.Widen(Args[i].Type);

    public EsqlException Error(string message) => Binder.Error(Span, message);

    public void Arity(int min, int max)
    {
        if (Count < min || Count > max)
        {
            var expected = min == max ? $"exactly {min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
            throw Error($"[{Name}] takes {expected} argument{(max == 1 && min == 1 ? "" : "s")}, found {Count} in [{Text}]");
        }
    }

    public void Arity(int exactly) => Arity(exactly, exactly);

    /// <summary>Checks an argument's type (null always passes); the message is Elasticsearch's.</summary>
    public void Expect(int i, string description, Func<EsqlType, bool> accepts)
    {
        var type = Type(i);
        if (type != EsqlType.Null && !accepts(type))
        {
            var which = Count == 1 ? "argument" : $"{Binder.Ordinal(i + 1)} argument";
            throw Binder.Error(Syntax.Args[i].Span, $"{which} of [{Text}] must be [{description}], found value [{Binder.Text(Syntax.Args[i])}] type [{EsqlTypes.Name(Args[i].Type)}]");
        }
    }

    public void ExpectString(int i) => Expect(i, "string", EsqlTypes.IsString);

    /// <summary>Checks for a number; a string literal that reads as one is one, as Elasticsearch's implicit casting does.</summary>
    public void ExpectNumeric(int i)
    {
        if (Type(i) == EsqlType.Keyword && Args[i] is ConstantEvaluator { Value: string text })
        {
            var type = int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _) ? EsqlType.Integer
                : long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _) ? EsqlType.Long
                : EsqlType.Double;
            Replace(i, Binder.Implicit(Args[i], type, Syntax.Args[i]));
        }
        Expect(i, "numeric", EsqlTypes.IsNumeric);
    }

    public void ExpectInteger(int i) => Expect(i, "integer", t => t is EsqlType.Integer or EsqlType.Long);

    /// <summary>Reads a string literal argument as a date (implicit casting), then checks it is a date.</summary>
    public void ExpectDate(int i)
    {
        if (Type(i) == EsqlType.Keyword && Args[i] is ConstantEvaluator)
        {
            Replace(i, Binder.Implicit(Args[i], EsqlType.Date, Syntax.Args[i]));
        }
        Expect(i, "datetime", t => t == EsqlType.Date);
    }

    public void Replace(int i, Evaluator evaluator) => Args = Args.SetItem(i, evaluator);

    /// <summary>Converts an argument to a type (numeric widening).</summary>
    public void Convert(int i, EsqlType type) => Replace(i, Cast.To(Args[i], type, Args[i].Span));

    /// <summary>An argument that must be known when the query is bound (an interval, a pattern, a unit).</summary>
    public ConstantEvaluator Constant(int i)
    {
        if (Args[i] is not ConstantEvaluator constant)
        {
            if (ReadsOnlyNow(Args[i]))
            {
                // NOW() is otherwise read when the plan runs; here its value shapes the plan, which is then this run's only.
                Binder.Context.NowReadAtBind = true;
                var block = Args[i].Eval(new Page(1, []), Binder.Context);
                return new ConstantEvaluator(Args[i].Type, Args[i].Span, block.BoxPosition(0));
            }
            throw Binder.Error(Syntax.Args[i].Span, $"{Binder.Ordinal(i + 1)} argument of [{Text}] must be a constant, received [{Binder.Text(Syntax.Args[i])}]");
        }
        return constant;
    }

    /// <summary>An expression of constants and NOW() alone (NOW() - 1 day): constant within a run.</summary>
    private static bool ReadsOnlyNow(Evaluator evaluator) =>
        evaluator is NowEvaluator || (evaluator.Children.Count > 0 && evaluator.Children.All(c => c.IsConstant || ReadsOnlyNow(c)));

    public bool AnyNullLiteral => Args.Any(a => a.Type == EsqlType.Null);

    public ConstantEvaluator Null(EsqlType type) => new(type, Span, null);

    public Evaluator Scalar(EsqlType result, ScalarFunction function, MultiValueMode multiValues = MultiValueMode.Refuse, bool nullsPropagate = true) =>
        new ScalarEvaluator(result, Span, Args, function, multiValues, nullsPropagate);
}

/// <summary>Binds a call of a function.</summary>
internal delegate Evaluator FunctionBinder(FunctionCall call);

/// <summary>The scalar functions of the subset, by name (case-insensitive).</summary>
internal static class FunctionRegistry
{
    private static readonly Dictionary<string, FunctionBinder> Functions = Build();

    private static readonly HashSet<string> Refused = new(StringComparer.OrdinalIgnoreCase)
    {
        "match", "qstr", "kql", "match_phrase", "multi_match", "knn", "score", "term", "st_distance", "st_intersects",
        "st_contains", "st_within", "st_disjoint", "st_x", "st_y", "st_centroid_agg", "st_extent_agg", "to_geopoint",
        "to_geoshape", "to_cartesianpoint", "to_cartesianshape", "to_version", "to_unsigned_long", "to_date_nanos",
        "categorize", "to_ul", "to_ulong", "hash", "md5", "sha1", "sha256", "to_aggregate_metric_double", "from_base64", "to_base64",
    };

    public static Evaluator Bind(FunctionCall call)
    {
        if (Functions.TryGetValue(call.Syntax.Name, out var binder))
        {
            return binder(call);
        }
        if (Refused.Contains(call.Syntax.Name))
        {
            throw call.Binder.Error(call.Syntax.NameSpan, $"the function [{call.Name}] is outside the subset the embedded executor runs");
        }
        throw call.Binder.Error(call.Syntax.NameSpan, $"Unknown function [{call.Syntax.Name}]");
    }

    public static bool IsKnown(string name) => Functions.ContainsKey(name);

    private static Dictionary<string, FunctionBinder> Build()
    {
        var functions = new Dictionary<string, FunctionBinder>(StringComparer.OrdinalIgnoreCase);
        StringFunctions.Register(functions);
        MathFunctions.Register(functions);
        DateFunctions.Register(functions);
        ConversionFunctions.Register(functions);
        ConditionalFunctions.Register(functions);
        MultiValueFunctions.Register(functions);
        IpFunctions.Register(functions);
        return functions;
    }
}
