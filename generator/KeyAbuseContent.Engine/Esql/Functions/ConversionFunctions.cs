using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>The <c>TO_*</c> functions: value by value on multi-values; a value that cannot convert is dropped with a warning.</summary>
internal static class ConversionFunctions
{
    public static void Register(Dictionary<string, FunctionBinder> functions)
    {
        Add(functions, EsqlType.Keyword, "TO_STRING");
        Add(functions, EsqlType.Long, "TO_LONG");
        Add(functions, EsqlType.Integer, "TO_INTEGER", "TO_INT");
        Add(functions, EsqlType.Double, "TO_DOUBLE", "TO_DBL");
        Add(functions, EsqlType.Date, "TO_DATETIME", "TO_DT");
        Add(functions, EsqlType.Ip, "TO_IP");
        Add(functions, EsqlType.Boolean, "TO_BOOLEAN", "TO_BOOL");
        Add(functions, EsqlType.TimeDuration, "TO_TIMEDURATION");
        Add(functions, EsqlType.DatePeriod, "TO_DATEPERIOD");
    }

    private static void Add(Dictionary<string, FunctionBinder> functions, EsqlType target, params string[] names)
    {
        foreach (var name in names)
        {
            functions[name] = call => Convert(call, target);
        }
    }

    private static Evaluator Convert(FunctionCall call, EsqlType target)
    {
        call.Arity(1);
        var from = call.Args[0].Type;
        if (!Conversions.IsSupported(from, target))
        {
            throw call.Binder.Error(call.Syntax.Args[0].Span, $"argument of [{call.Text}] must be convertible to [{EsqlTypes.Name(target)}], found value [{call.Binder.Text(call.Syntax.Args[0])}] type [{EsqlTypes.Name(from)}]");
        }
        if (target is EsqlType.TimeDuration or EsqlType.DatePeriod or EsqlType.Ip && call.Args[0] is ConstantEvaluator && EsqlTypes.IsString(from))
        {
            return call.Binder.Implicit(call.Args[0], target, call.Syntax.Args[0]);
        }
        return Cast.To(call.Args[0], target, call.Span);
    }
}
