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

    /// <summary>When set, every call is also kept here, so a cached plan replays its binding's warnings into each run.</summary>
    private List<(TextSpan? Expression, string Text)>? journal;

    public IReadOnlyList<string> Messages => messages;

    /// <summary>Starts keeping the calls made from now on (see <see cref="Journal"/>).</summary>
    public void StartJournal() => journal = [];

    /// <summary>The calls kept since <see cref="StartJournal"/>, in order.</summary>
    public IReadOnlyList<(TextSpan? Expression, string Text)> Journal => journal ?? [];

    /// <summary>Makes the calls of a journal again, in order: the same messages and failure counts as when they were made.</summary>
    public void Replay(IReadOnlyList<(TextSpan? Expression, string Text)> calls)
    {
        foreach (var (expression, text) in calls)
        {
            if (expression is { } e)
            {
                Failure(e, text);
            }
            else
            {
                Add(text);
            }
        }
    }

    /// <summary>Records that <paramref name="expression"/> failed on a row; <paramref name="exception"/> reads like Java's, e.g. <c>java.lang.ArithmeticException: / by zero</c>.</summary>
    public void Failure(TextSpan expression, string exception)
    {
        journal?.Add((expression, exception));
        failures.TryGetValue(expression, out var count);
        var (line, column) = source.Position(expression.Start);
        if (count == 0)
        {
            Record($"Line {line}:{column}: evaluation of [{source.Slice(expression)}] failed, treating result as null. Only first {MaxFailuresPerExpression} failures recorded.");
        }
        if (count < MaxFailuresPerExpression)
        {
            Record($"Line {line}:{column}: {exception}");
        }
        failures[expression] = count + 1;
    }

    /// <summary>The failure of a single-value function given a multi-value.</summary>
    public void MultiValue(TextSpan expression) => Failure(expression, EvaluationFailure.MultiValueMessage);

    public void Add(string message)
    {
        journal?.Add((null, message));
        Record(message);
    }

    private void Record(string message)
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

    /// <summary>
    /// Set by binding when it needed NOW()'s value itself (an argument that must be constant, such as BUCKET's
    /// range, computed from NOW()): such a plan holds this run's time and is valid only at this time.
    /// </summary>
    public bool NowReadAtBind { get; set; }

    /// <summary>The run's indices by name: LOOKUP JOIN reads its table here when it runs, so a plan outlives its run.</summary>
    public IReadOnlyDictionary<string, Data.DataTable>? Indices { get; init; }

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
