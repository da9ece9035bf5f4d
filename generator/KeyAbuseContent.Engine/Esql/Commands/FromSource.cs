using System.Collections.Immutable;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Commands;

/// <summary>
/// FROM: the indices its patterns match (<c>*</c> wildcards, comma lists, <c>-name</c> exclusions), their columns
/// merged and sorted by name as Elasticsearch's field capabilities list them, the rows of each index in turn,
/// then the requested METADATA fields. A column whose type differs between indices is <c>unsupported</c>.
/// </summary>
internal static class FromSource
{
    private static readonly HashSet<string> MetadataFields = ["_id", "_index", "_version", "_score"];

    /// <summary>
    /// The indices the patterns match and the schema they give (their merged columns, then the METADATA fields):
    /// what a plan is bound against. The schema depends only on the matched indices' names and columns.
    /// </summary>
    public static (List<(string Name, DataTable Table)> Tables, Schema Schema) Bind(
        FromCommand from,
        IReadOnlyDictionary<string, DataTable> indices,
        SourceText source)
    {
        var tables = Resolve(from.Indices, indices, source);
        var schema = MergeColumns(tables);
        var attributes = schema.Attributes.AddRange(from.Metadata.Select(m => new Planning.Attribute(m.Pattern, MetadataType(m.Pattern))));
        return (tables, new Schema(attributes));
    }

    /// <summary>The rows of the matched indices in the window, in the columns of <paramref name="schema"/> (from <see cref="Bind"/>): read on every run.</summary>
    public static Page Read(FromCommand from, List<(string Name, DataTable Table)> tables, Schema schema, (DateTime From, DateTime To)? window, SourceText source)
    {
        var columns = new Schema(schema.Attributes.RemoveRange(schema.Count - from.Metadata.Length, from.Metadata.Length));
        var pages = tables.Select(t => IndexPage(t.Name, t.Table, columns, from.Metadata, window, source)).ToList();
        // Indices without rows in the window add nothing: with one index left, its page stays a lazy selection
        // (as with a single index) rather than a copy of every column of the window, made on every run.
        var nonEmpty = pages.Where(p => p.PositionCount > 0).ToList();
        return pages.Count == 1 ? pages[0] : nonEmpty.Count == 1 ? nonEmpty[0] : Concatenate(pages, schema.Attributes);
    }

    /// <summary>The index names matching the patterns, in name order; also used by LOOKUP JOIN.</summary>
    public static List<(string Name, DataTable Table)> Resolve(IEnumerable<IndexPattern> patterns, IReadOnlyDictionary<string, DataTable> indices, SourceText source)
    {
        var included = new SortedDictionary<string, DataTable>(StringComparer.Ordinal);
        var list = patterns.ToList();
        foreach (var pattern in list)
        {
            var exclude = pattern.Pattern.StartsWith('-');
            var text = exclude ? pattern.Pattern[1..] : pattern.Pattern;
            if (!exclude && !text.Contains('*', StringComparison.Ordinal) && !indices.ContainsKey(text))
            {
                throw source.Error(pattern.Span, $"Unknown index [{text}]");
            }
            foreach (var (name, table) in indices)
            {
                if (Wildcard.Matches(text, name))
                {
                    if (exclude)
                    {
                        included.Remove(name);
                    }
                    else
                    {
                        included[name] = table;
                    }
                }
            }
        }
        if (included.Count == 0)
        {
            throw source.Error(list[0].Span, $"Unknown index [{string.Join(',', list.Select(p => p.Pattern))}]");
        }
        return [.. included.Select(kv => (kv.Key, kv.Value))];
    }

    private static EsqlType MetadataType(string field) => field switch
    {
        "_version" => EsqlType.Long,
        "_score" => EsqlType.Double,
        _ => EsqlType.Keyword,
    };

    public static void CheckMetadata(FromCommand from, SourceText source)
    {
        foreach (var m in from.Metadata)
        {
            if (!MetadataFields.Contains(m.Pattern))
            {
                throw source.Error(m.Span, $"unsupported metadata field [{m.Pattern}]; the embedded executor knows _id, _index, _version and _score");
            }
        }
    }

    private static Schema MergeColumns(List<(string Name, DataTable Table)> tables)
    {
        var columns = new SortedDictionary<string, (EsqlType Type, string? Conflict)>(StringComparer.Ordinal);
        foreach (var (name, table) in tables)
        {
            for (var c = 0; c < table.Columns.Count; c++)
            {
                var column = table.Columns[c].Name;
                if (MetadataFields.Contains(column))
                {
                    continue;
                }
                var type = TableImport.ColumnType(table, c);
                if (!columns.TryGetValue(column, out var existing))
                {
                    columns[column] = (type, type == EsqlType.Unsupported ? table.Columns[c].Type : null);
                }
                else if (EsqlTypes.Widen(existing.Type) != EsqlTypes.Widen(type) && existing.Type != EsqlType.Unsupported)
                {
                    columns[column] = (EsqlType.Unsupported, $"conflicting types [{EsqlTypes.Name(existing.Type)}] and [{EsqlTypes.Name(type)}] in [{name}]");
                }
                else if (existing.Type == EsqlType.Text && type == EsqlType.Keyword)
                {
                    columns[column] = (EsqlType.Keyword, null);
                }
            }
        }
        return new Schema([.. columns.Select(kv => new Planning.Attribute(kv.Key, kv.Value.Type, kv.Value.Conflict))]);
    }

    private static Page IndexPage(string name, DataTable table, Schema schema, ImmutableArray<NamePattern> metadata, (DateTime From, DateTime To)? window, SourceText source)
    {
        var selection = window is { } w ? Window(table, w) : null;
        var tableRows = table.Rows.Count;
        var blocks = new List<Block>(schema.Count);
        foreach (var attribute in schema.Attributes)
        {
            var index = table.IndexOf(attribute.Name);
            if (index < 0 || attribute.Type == EsqlType.Unsupported)
            {
                blocks.Add(Block.AllNull(attribute.Type, tableRows));
                continue;
            }
            var block = TableImport.Column(table, index);
            blocks.Add(block.Type == attribute.Type ? block : Evaluation.Cast.Retype(block, attribute.Type));
        }
        // The window is a lazy selection: only the columns a later command reads are copied, and only its rows.
        var page = new Page(tableRows, blocks);
        if (selection is not null)
        {
            page = page.Filter(selection);
        }
        var rows = page.PositionCount;
        foreach (var m in metadata)
        {
            page = page.Append(m.Pattern switch
            {
                "_index" => Block.Constant(EsqlType.Keyword, name, rows),
                "_version" => Block.Constant(EsqlType.Long, 1L, rows),
                "_score" => Block.Constant(EsqlType.Double, 0.0, rows),
                _ => Ids(table, name, selection),
            });
        }
        return page;
    }

    /// <summary>The table's <c>_id</c> column when it has one, else the row number; for the selected rows only.</summary>
    private static Block Ids(DataTable table, string name, int[]? selection)
    {
        var index = table.IndexOf("_id");
        if (index >= 0 && TableImport.ColumnType(table, index) is EsqlType.Keyword or EsqlType.Text)
        {
            var column = Evaluation.Cast.Retype(TableImport.Column(table, index), EsqlType.Keyword);
            return selection is null ? column : column.Select(selection);
        }
        var ids = new string[selection?.Length ?? table.Rows.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = $"{name}:{(selection is null ? i : selection[i]) + 1}";
        }
        return new Block<string>(EsqlType.Keyword, ids.Length, ids);
    }

    /// <summary>
    /// The rule's time range as Kibana filters it: the positions whose <c>@timestamp</c> is in [from, to); rows
    /// without one are out, and so is every row of an index without a date <c>@timestamp</c>.
    /// </summary>
    private static int[] Window(DataTable table, (DateTime From, DateTime To) window)
    {
        var index = table.IndexOf("@timestamp");
        if (index < 0 || TableImport.ColumnType(table, index) != EsqlType.Date)
        {
            return [];
        }
        return TableImport.Window(table, index, ValueFormat.ToMillis(window.From), ValueFormat.ToMillis(window.To));
    }

    private static Page Concatenate(List<Page> pages, ImmutableArray<Planning.Attribute> attributes)
    {
        var total = pages.Sum(p => p.PositionCount);
        var blocks = new Block[attributes.Length];
        for (var c = 0; c < attributes.Length; c++)
        {
            var builder = BlockBuilder.Create(attributes[c].Type, total);
            foreach (var page in pages)
            {
                var block = page.Block(c);
                for (var p = 0; p < page.PositionCount; p++)
                {
                    if (block.Type is EsqlType.Null or EsqlType.Unsupported)
                    {
                        builder.AppendNull();
                    }
                    else
                    {
                        builder.CopyPosition(block, p);
                    }
                }
            }
            blocks[c] = builder.Build();
        }
        return new Page(total, blocks);
    }
}

/// <summary>Name patterns with <c>*</c> wildcards (index patterns, KEEP and DROP); <c>\*</c> is a literal star.</summary>
internal static class Wildcard
{
    public static bool Matches(string pattern, string name)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return pattern.Replace("\\*", "*", StringComparison.Ordinal) == name;
        }
        return Match(pattern, 0, name, 0);
    }

    private static bool Match(string pattern, int p, string name, int n)
    {
        while (p < pattern.Length)
        {
            var c = pattern[p];
            if (c == '*')
            {
                for (var k = n; k <= name.Length; k++)
                {
                    if (Match(pattern, p + 1, name, k))
                    {
                        return true;
                    }
                }
                return false;
            }
            if (c == '\\' && p + 1 < pattern.Length && pattern[p + 1] == '*')
            {
                c = '*';
                p++;
            }
            if (n >= name.Length || name[n] != c)
            {
                return false;
            }
            p++;
            n++;
        }
        return n == name.Length;
    }
}
