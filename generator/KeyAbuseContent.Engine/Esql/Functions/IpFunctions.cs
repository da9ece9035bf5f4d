using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>CIDR_MATCH and IP_PREFIX over addresses stored IPv4-mapped.</summary>
internal static class IpFunctions
{
    public static void Register(Dictionary<string, FunctionBinder> functions)
    {
        functions["CIDR_MATCH"] = CidrMatch;
        functions["IP_PREFIX"] = call =>
        {
            call.Arity(3);
            ExpectIp(call, 0);
            call.ExpectInteger(1);
            call.ExpectInteger(2);
            call.Convert(1, EsqlType.Integer);
            call.Convert(2, EsqlType.Integer);
            return call.Scalar(EsqlType.Ip, a =>
            {
                var ip = (UInt128)a[0]!;
                var v4 = ValueFormat.IsV4(ip);
                var length = v4 ? (int)a[1]! : (int)a[2]!;
                if (length < 0 || length > (v4 ? 32 : 128))
                {
                    throw EvaluationFailure.IllegalArgument($"Prefix length must be in the range [0, {(v4 ? 32 : 128)}], found [{length}]");
                }
                return ip & Mask(v4 ? 96 + length : length);
            });
        };
    }

    private static void ExpectIp(FunctionCall call, int i)
    {
        if (call.Type(i) == EsqlType.Keyword && call.Args[i] is ConstantEvaluator)
        {
            call.Replace(i, call.Binder.Implicit(call.Args[i], EsqlType.Ip, call.Syntax.Args[i]));
        }
        call.Expect(i, "ip", t => t == EsqlType.Ip);
    }

    private static UInt128 Mask(int bits) => bits <= 0 ? UInt128.Zero : bits >= 128 ? UInt128.MaxValue : UInt128.MaxValue << (128 - bits);

    /// <summary>A block as address and prefix: IPv4 blocks match IPv4 addresses only.</summary>
    public static bool TryParseCidr(string text, out UInt128 network, out UInt128 mask)
    {
        network = 0;
        mask = 0;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var address = slash < 0 ? text : text[..slash];
        if (!ValueFormat.TryParseIp(address, out var ip))
        {
            return false;
        }
        var v4 = ValueFormat.IsV4(ip) && !address.Contains(':', StringComparison.Ordinal);
        var max = v4 ? 32 : 128;
        var length = max;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length) || length > max))
        {
            return false;
        }
        mask = Mask(v4 ? 96 + length : length);
        network = ip & mask;
        return true;
    }

    private static Evaluator CidrMatch(FunctionCall call)
    {
        call.Arity(2, int.MaxValue);
        ExpectIp(call, 0);
        for (var i = 1; i < call.Count; i++)
        {
            call.ExpectString(i);
        }
        var constant = new List<(UInt128 Network, UInt128 Mask)>();
        var allConstant = true;
        for (var i = 1; i < call.Count; i++)
        {
            if (call.Args[i] is ConstantEvaluator c)
            {
                foreach (var value in MultiValueFunctions.Values(c.Value))
                {
                    if (!TryParseCidr((string)value!, out var network, out var mask))
                    {
                        throw call.Binder.Error(call.Syntax.Args[i].Span, $"invalid CIDR [{value}] in [{call.Text}]");
                    }
                    constant.Add((network, mask));
                }
            }
            else
            {
                allConstant = false;
            }
        }
        if (allConstant)
        {
            var blocks = constant.ToArray();
            return new ScalarEvaluator(EsqlType.Boolean, call.Span, [call.Args[0]], a =>
            {
                var ip = (UInt128)a[0]!;
                foreach (var (network, mask) in blocks)
                {
                    if ((ip & mask) == network)
                    {
                        return true;
                    }
                }
                return false;
            });
        }
        return call.Scalar(EsqlType.Boolean, a =>
        {
            var ip = (UInt128)a[0]!;
            for (var i = 1; i < a.Length; i++)
            {
                if (!TryParseCidr((string)a[i]!, out var network, out var mask))
                {
                    throw EvaluationFailure.IllegalArgument($"invalid CIDR [{a[i]}]");
                }
                if ((ip & mask) == network)
                {
                    return true;
                }
            }
            return false;
        });
    }
}
