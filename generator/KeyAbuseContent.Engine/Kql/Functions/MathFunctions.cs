using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Functions;

// Numeric functions; they give real results unless noted.
internal static partial class ScalarFunctions
{
    private static IEnumerable<ScalarFunction> Maths()
    {
        yield return F("round", 1, 2, ResultNaming.FirstArgument, c =>
        {
            c.Expect(0, t => t.IsNumeric(), "a number");
            var type = c.Type(0);
            return c.Row(type, a =>
            {
                var digits = a.Length > 1 ? (int)Math.Clamp(Scalars.ToLong(a[1]) ?? 0, -15, 15) : 0;
                if (Scalars.ToReal(a[0]) is not { } v)
                {
                    return null;
                }
                var rounded = digits >= 0 ? Math.Round(v, digits, MidpointRounding.AwayFromZero) : Math.Round(v / Math.Pow(10, -digits), MidpointRounding.AwayFromZero) * Math.Pow(10, -digits);
                return type switch
                {
                    KqlType.Real => rounded,
                    KqlType.Int => (int)rounded,
                    _ => (object)(long)rounded,
                };
            });
        });
        yield return Real1("log", Math.Log, ResultNaming.FirstArgument);
        yield return Real1("log10", Math.Log10, ResultNaming.FirstArgument);
        yield return Real1("log2", Math.Log2, ResultNaming.FirstArgument);
        yield return Real1("exp", Math.Exp, ResultNaming.FirstArgument);
        yield return Real1("exp2", v => Math.Pow(2, v), ResultNaming.FirstArgument);
        yield return Real1("exp10", v => Math.Pow(10, v), ResultNaming.FirstArgument);
        yield return Real1("sqrt", Math.Sqrt, ResultNaming.FirstArgument);
        yield return F("ceiling", 1, 1, ResultNaming.FirstArgument, c =>
        {
            c.Expect(0, t => t.IsNumeric(), "a number");
            return c.Type(0) == KqlType.Real ? c.Row1(KqlType.Real, v => Math.Ceiling((double)v)) : c.Args[0];
        });
        yield return Real1("sign", v => Math.Sign(v), ResultNaming.None);
        yield return F("pow", 2, 2, ResultNaming.FirstArgument, c => c.Row(KqlType.Real, a =>
            Scalars.ToReal(a[0]) is { } x && Scalars.ToReal(a[1]) is { } y ? Math.Pow(x, y) : null));
        yield return F("abs", 1, 1, ResultNaming.FirstArgument, c =>
        {
            c.Expect(0, t => t.IsNumeric() || t == KqlType.TimeSpan, "a number or a timespan");
            return c.Row1(c.Type(0) == KqlType.Int ? KqlType.Long : c.Type(0), v => v switch
            {
                long l => Math.Abs(l),
                int i => Math.Abs((long)i),
                double d => Math.Abs(d),
                TimeSpan t => t.Duration(),
                _ => null,
            });
        });
        yield return F("isnan", 1, 1, ResultNaming.None, c => c.Row(KqlType.Bool, a => Scalars.ToReal(a[0]) is { } v ? double.IsNaN(v) : null));
        yield return F("isinf", 1, 1, ResultNaming.None, c => c.Row(KqlType.Bool, a => Scalars.ToReal(a[0]) is { } v ? double.IsInfinity(v) : null));
        yield return F("isfinite", 1, 1, ResultNaming.None, c => c.Row(KqlType.Bool, a => Scalars.ToReal(a[0]) is { } v ? double.IsFinite(v) : null));
    }

    private static ScalarFunction Real1(string name, Func<double, double> f, ResultNaming naming) =>
        F(name, 1, 1, naming, c =>
        {
            c.Expect(0, t => t.IsNumeric() || t == KqlType.Dynamic, "a number");
            return c.Row(KqlType.Real, a => Scalars.ToReal(a[0]) is { } v ? f(v) : null);
        });
}
