namespace KeyAbuseContent.Diagnostics;

/// <summary>A position in a source file; line and column are 1-based, 0 when unknown.</summary>
public readonly record struct SourcePosition(string File, int Line, int Column)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

/// <summary>How serious a diagnostic is: errors fail validation, warnings do not.</summary>
public enum DiagnosticSeverity
{
    Error,
    Warning,
}

/// <summary>One problem found in a rule or its input, reported as a value, never thrown.</summary>
public sealed record Diagnostic(SourcePosition Position, string? Rule, string Code, string Message, DiagnosticSeverity Severity = DiagnosticSeverity.Error)
{
    /// <summary>The one-line form detection engineers and editors read: <c>file:line:col: message [rule]</c>.</summary>
    public override string ToString()
    {
        var level = Severity == DiagnosticSeverity.Error ? "error" : "warning";
        var rule = Rule is null ? "" : $" [{Rule}]";
        return $"{Position}: {level} {Code}: {Message}{rule}";
    }
}

/// <summary>Collects diagnostics for one unit of work; validation reports every problem at once.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors => _items.Exists(d => d.Severity == DiagnosticSeverity.Error);

    public void Add(Diagnostic diagnostic) => _items.Add(diagnostic);

    public void AddRange(IEnumerable<Diagnostic> diagnostics) => _items.AddRange(diagnostics);

    public void Error(SourcePosition at, string? rule, string code, string message) =>
        _items.Add(new Diagnostic(at, rule, code, message));
}
