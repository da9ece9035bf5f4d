using KeyAbuseContent.Engine.Esql.Syntax;

namespace KeyAbuseContent.Engine.Esql.Execution;

/// <summary>
/// A row that fails to evaluate becomes null with a warning, as in Elasticsearch: a header naming the expression
/// and then the failures, at most 20 an expression, each distinct message once (HTTP warning headers are
/// deduplicated).
/// </summary>
internal sealed class Warnings(SourceText source)
{
    private const int MaxFailuresPerExpression = 20;

    private readonly List<string> messages = [];
    private readonly HashSet<string> seen = new(StringComparer.Ordinal);
    private readonly Dictionary<TextSpan, int> failures = [];

    public IReadOnlyList<string> Messages => messages;

    /// <summary>Records that <paramref name="expression"/> failed on a row; <paramref name="exception"/> reads like Java's, e.g. <c>java.lang.ArithmeticException: / by zero</c>.</summary>
    public void Failure(TextSpan expression, string exception)
    {
        failures.TryGetValue(expression, out var count);
        var (line, column) = source.Position(expression.Start);
        if (count == 0)
        {
            Add($"Line {line}:{column}: evaluation of [{source.Slice(expression)}] failed, treating result as null. Only first {MaxFailuresPerExpression} failures recorded.");
        }
        if (count < MaxFailuresPerExpression)
        {
            Add($"Line {line}:{column}: {exception}");
        }
        failures[expression] = count + 1;
    }

    /// <summary>The failure of a single-value function given a multi-value.</summary>
    public void MultiValue(TextSpan expression) => Failure(expression, EvaluationFailure.MultiValueMessage);

    public void Add(string message)
    {
        if (seen.Add(message))
        {
            messages.Add(message);
        }
    }
}

/// <summary>A row's evaluation failed; the row's result is null and the message becomes a warning.</summary>
internal sealed class EvaluationFailure : Exception
{
    public const string MultiValueMessage = "java.lang.IllegalArgumentException: single-value function encountered multi-value";

    public EvaluationFailure()
    {
    }

    public EvaluationFailure(string message)
        : base(message)
    {
    }

    public EvaluationFailure(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public static EvaluationFailure Arithmetic(string message) => new($"java.lang.ArithmeticException: {message}");

    public static EvaluationFailure InvalidArgument(string message) => new($"org.elasticsearch.xpack.esql.core.InvalidArgumentException: {message}");

    public static EvaluationFailure IllegalArgument(string message) => new($"java.lang.IllegalArgumentException: {message}");
}

/// <summary>What an evaluation needs besides the page: the run's time and where warnings go.</summary>
internal sealed class EvalContext(SourceText source, long nowMillis)
{
    public SourceText Source { get; } = source;

    public long NowMillis { get; } = nowMillis;

    public Warnings Warnings { get; } = new(source);

    /// <summary>Where LIKE and RLIKE matchers come from: the engine's cache, or none (each binding compiles its own).</summary>
    public Patterns.PatternCache? Patterns { get; init; }

    /// <summary>Where LOOKUP JOIN finds the key index of a lookup table it has read before: the engine's cache, or none.</summary>
    public LookupIndexCache? LookupIndexes { get; init; }
}

/// <summary>
/// Key indices of lookup tables, kept per table instance (and key columns) for as long as the table lives, so the
/// scheduled runs that read the same lookup index build its index once. Safe to use from several threads.
/// </summary>
internal sealed class LookupIndexCache
{
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Data.DataTable, System.Collections.Concurrent.ConcurrentDictionary<string, object>> _indices = [];

    public object GetOrAdd(Data.DataTable table, string keys, Func<object> build) =>
        _indices.GetValue(table, _ => new(StringComparer.Ordinal)).GetOrAdd(keys, _ => build());
}
