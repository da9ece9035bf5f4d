using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Syntax;

namespace KeyAbuseContent.Engine.Esql.Commands;

/// <summary>KEEP, DROP and RENAME, resolved to column lists when the query is bound.</summary>
internal static class Projections
{
    /// <summary>
    /// KEEP: columns in the order of the patterns. A column several patterns match goes where the most specific
    /// one puts it (an exact name over a partial wildcard over <c>*</c>; the rightmost among equals), as documented.
    /// </summary>
    public static ProjectOperator Keep(KeepCommand keep, Schema schema, SourceText source)
    {
        var winner = new int[schema.Count];
        Array.Fill(winner, -1);
        var best = new int[schema.Count];
        Array.Fill(best, -1);
        for (var j = 0; j < keep.Patterns.Length; j++)
        {
            var pattern = keep.Patterns[j];
            var precedence = !pattern.HasWildcard ? 2 : pattern.Pattern == "*" ? 0 : 1;
            var matched = false;
            for (var c = 0; c < schema.Count; c++)
            {
                if (Wildcard.Matches(pattern.Pattern, schema[c].Name))
                {
                    matched = true;
                    if (precedence >= best[c])
                    {
                        best[c] = precedence;
                        winner[c] = j;
                    }
                }
            }
            Unmatched(pattern, matched, source);
        }
        var columns = new List<int>();
        for (var j = 0; j < keep.Patterns.Length; j++)
        {
            for (var c = 0; c < schema.Count; c++)
            {
                if (winner[c] == j)
                {
                    columns.Add(c);
                }
            }
        }
        return Project(schema, columns);
    }

    public static ProjectOperator Drop(DropCommand drop, Schema schema, SourceText source)
    {
        var dropped = new bool[schema.Count];
        foreach (var pattern in drop.Patterns)
        {
            var matched = false;
            for (var c = 0; c < schema.Count; c++)
            {
                if (Wildcard.Matches(pattern.Pattern, schema[c].Name))
                {
                    dropped[c] = true;
                    matched = true;
                }
            }
            Unmatched(pattern, matched, source);
        }
        return Project(schema, [.. Enumerable.Range(0, schema.Count).Where(c => !dropped[c])]);
    }

    /// <summary>RENAME a AS b: b takes a's place; a column already named b is dropped. Renames apply in turn.</summary>
    public static ProjectOperator Rename(RenameCommand rename, Schema schema, SourceText source)
    {
        var columns = Enumerable.Range(0, schema.Count).ToList();
        var names = schema.Attributes.Select(a => a.Name).ToList();
        foreach (var (from, to) in rename.Renames)
        {
            if (from.HasWildcard || to.HasWildcard)
            {
                throw source.Error(from.HasWildcard ? from.Span : to.Span, "RENAME with wildcards is outside the subset the embedded executor runs");
            }
            var at = names.IndexOf(from.Pattern);
            if (at < 0)
            {
                throw source.Error(from.Span, $"Unknown column [{from.Pattern}]");
            }
            var existing = names.IndexOf(to.Pattern);
            names[at] = to.Pattern;
            if (existing >= 0 && existing != at)
            {
                names.RemoveAt(existing);
                columns.RemoveAt(existing);
            }
        }
        var attributes = columns.Select((c, i) => schema[c] with { Name = names[i] }).ToList();
        return new ProjectOperator(new Schema([.. attributes]), columns);
    }

    private static void Unmatched(NamePattern pattern, bool matched, SourceText source)
    {
        if (matched)
        {
            return;
        }
        throw source.Error(pattern.Span, pattern.HasWildcard ? $"No matches found for pattern [{pattern.Pattern}]" : $"Unknown column [{pattern.Pattern}]");
    }

    private static ProjectOperator Project(Schema schema, List<int> columns) =>
        new(new Schema([.. columns.Select(c => schema[c])]), columns);
}
