using System.Collections.Concurrent;

namespace KeyAbuseContent.Engine.Esql.Patterns;

/// <summary>
/// The matchers an engine has compiled, by pattern text and kind: a rule's LIKE and RLIKE patterns are the same on
/// every scheduled run, and building a regular expression costs far more than a run's matching. A pattern that
/// does not compile is not kept, so it fails again with its error. Safe to use from several threads.
/// </summary>
internal sealed class PatternCache
{
    private readonly ConcurrentDictionary<(string Text, bool Regex), StringMatcher> _matchers = new();

    /// <summary>The matcher of a LIKE pattern or, with <paramref name="regex"/>, a Lucene regular expression; throws <see cref="PatternException"/>.</summary>
    public StringMatcher Get(string text, bool regex) =>
        _matchers.GetOrAdd((text, regex), static key => key.Regex ? StringMatcher.Lucene(key.Text) : StringMatcher.Like(key.Text));
}
