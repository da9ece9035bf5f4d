using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Esql;
using KeyAbuseContent.Targets.Kql;

namespace KeyAbuseContent.Tests.Expressions;

/// <summary>Parses, binds against the activity fields and renders an expression in both dialects.</summary>
internal static class ExpressionTestKit
{
    public static Bound Bind(string text, Scope? scope = null)
    {
        var (expr, error) = ExpressionParser.Parse(text);
        Assert.Null(error);
        var (bound, errors) = Binder.Bind(expr!, scope ?? Sources.Activity.Scope());
        Assert.Empty(errors);
        return bound!;
    }

    public static string BindError(string text, Scope? scope = null)
    {
        var (expr, error) = ExpressionParser.Parse(text);
        if (error is not null)
        {
            return error.Message;
        }
        var (_, errors) = Binder.Bind(expr!, scope ?? Sources.Activity.Scope());
        return Assert.Single(errors).Message;
    }

    public static string Kql(string text) => KqlRenderer.Expr(KqlExpressionEmitter.Emit(Bind(text)));

    public static string Esql(string text) => EsqlRenderer.RenderExpr(new EsqlExpressionEmitter().Emit(Bind(text)));
}
