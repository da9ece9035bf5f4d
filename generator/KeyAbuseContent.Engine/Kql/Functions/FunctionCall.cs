using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Execution;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql.Functions;

/// <summary>How a function call names its column when the query does not (Kusto.Language's result-name kinds).</summary>
internal enum ResultNaming
{
    /// <summary><c>Column1</c>, <c>Column2</c>, ...</summary>
    None,

    /// <summary>The name of the first argument (<c>tostring(x)</c> is <c>x</c>).</summary>
    FirstArgument,

    /// <summary>The function's name, an underscore and the first argument's name (<c>strlen_x</c>).</summary>
    NameAndFirstArgument,
}

/// <summary>A call being bound: its arguments (already bound), their syntax, and what the binder offers.</summary>
internal sealed class FunctionCall
{
    public required string Name { get; init; }

    public required ImmutableArray<ScalarNode> Args { get; init; }

    public required ImmutableArray<ExprSyntax> Syntax { get; init; }

    public required QueryContext Context { get; init; }

    /// <summary>An error at the call, in its source.</summary>
    public required Func<string, KqlException> Error { get; init; }

    /// <summary>An error raised while the call runs (assert), at the call.</summary>
    public required Func<string, KqlException> RuntimeError { get; init; }

    public KqlType Type(int i) => Args[i].Type;

    /// <summary>The value of a constant argument; an error naming the argument when it is not constant.</summary>
    public object? Constant(int i, string what)
    {
        if (!Args[i].IsConstant)
        {
            throw Error($"{Name}(): {what} must be a constant");
        }
        return Args[i].ConstantValue;
    }

    /// <summary>A row function, folded to a constant when every argument is one.</summary>
    public ScalarNode Row(KqlType type, Func<object?[], object?> function)
    {
        if (Args.All(a => a.IsConstant))
        {
            return new ConstantNode(type, function([.. Args.Select(a => a.ConstantValue)]));
        }
        return new RowFunctionNode(Name, type, Args, function);
    }

    /// <summary>A row function of one argument that is null for a null argument.</summary>
    public ScalarNode Row1(KqlType type, Func<object, object?> function) => Row(type, a => a[0] is null ? null : function(a[0]!));

    public void Expect(int i, Func<KqlType, bool> accepts, string description)
    {
        if (!accepts(Type(i)))
        {
            throw Error($"{Name}(): argument {i + 1} must be {description}, not {Type(i).Name()}");
        }
    }
}

/// <summary>A built-in scalar function: arity, naming, and how a call binds to an evaluator.</summary>
internal sealed record ScalarFunction(string Name, int MinArgs, int MaxArgs, ResultNaming Naming, Func<FunctionCall, ScalarNode> Bind);
