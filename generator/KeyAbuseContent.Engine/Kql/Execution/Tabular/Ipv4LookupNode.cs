using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Functions;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>
/// <c>evaluate ipv4_lookup(LookupTable, SourceIPv4Key, IPv4LookupKey [, return_unmatched])</c>: each input row joined
/// with every lookup row whose range holds its address, in lookup order; both keys may carry a prefix
/// (<c>10.1.0.0/16</c>) and match when they agree on the shorter prefix, as <c>ipv4_is_match</c> compares. Rows without
/// a match are dropped, or kept with null lookup columns when <c>return_unmatched</c> is true. The output is the input's
/// columns and then the lookup table's, as the lookup operator's is. An address that does not parse matches nothing.
/// Each distinct address text is matched once per execution, or once per converted column for a slice of one.
/// </summary>
internal sealed class Ipv4LookupNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly TabularNode _lookup;
    private readonly int _sourceKey;
    private readonly int _lookupKey;
    private readonly bool _returnUnmatched;
    private readonly ImmutableArray<JoinOutput> _outputs;

    public Ipv4LookupNode(TabularNode input, TabularNode lookup, int sourceKey, int lookupKey, bool returnUnmatched, TableSchema schema, ImmutableArray<JoinOutput> outputs)
        : base(schema)
    {
        _input = input;
        _lookup = lookup;
        _sourceKey = sourceKey;
        _lookupKey = lookupKey;
        _returnUnmatched = returnUnmatched;
        _outputs = outputs;
    }

    public override RowSet Execute(QueryContext context)
    {
        var input = _input.Execute(context);
        var lookup = _lookup.Execute(context);
        var ranges = new List<(uint Address, int Prefix, int Row)>();
        var keys = lookup.Columns[_lookupKey];
        for (var r = 0; r < lookup.RowCount; r++)
        {
            if (keys.GetValue(r) is string text && Ipv4.TryParse(text) is { } range)
            {
                ranges.Add((range.Address, range.Prefix, r));
            }
        }

        var source = input.Columns[_sourceKey];
        var matchesOfRow = MatchesOfRows(source, input.RowCount, ranges, context);
        var inputRows = new List<int>(input.RowCount);
        var lookupRows = new List<int>(input.RowCount);
        var oneToOne = true;
        for (var row = 0; row < input.RowCount; row++)
        {
            var matches = matchesOfRow[row];
            if (matches.Length == 0)
            {
                if (_returnUnmatched)
                {
                    inputRows.Add(row);
                    lookupRows.Add(-1);
                }
                else
                {
                    oneToOne = false;
                }
                continue;
            }
            oneToOne &= matches.Length == 1;
            foreach (var match in matches)
            {
                inputRows.Add(row);
                lookupRows.Add(match);
            }
        }

        var inputPicks = inputRows.ToArray();
        var lookupPicks = lookupRows.ToArray();
        var columns = new Column[_outputs.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            var output = _outputs[i];
            // Every input row once, in order: the input's columns pass on as they are (views stay views).
            columns[i] = output.FromLeft
                ? oneToOne ? input.Columns[output.Ordinal] : input.Columns[output.Ordinal].Gather(inputPicks)
                : lookup.Columns[output.Ordinal].Gather(lookupPicks);
        }
        return new RowSet(Schema, columns, inputPicks.Length);
    }

    /// <summary>
    /// The lookup rows each input row matches. A slice of a converted table (a view of a string column the engine
    /// keeps) reads and extends the matches kept for that column, so each distinct address of the table is matched
    /// once over all runs; any other column is matched here, each distinct address once.
    /// </summary>
    private static int[][] MatchesOfRows(Column source, int rowCount, List<(uint Address, int Prefix, int Row)> ranges, QueryContext context)
    {
        var result = new int[rowCount][];
        if (source is SelectedColumn { Source: StringColumn whole, Rows: var rows })
        {
            context.Catalog.AddressMatches(whole).Read(whole, rows, ranges, result);
            return result;
        }
        var matchesOf = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (var row = 0; row < rowCount; row++)
        {
            if (source.GetValue(row) is not string address)
            {
                result[row] = [];
            }
            else if (!matchesOf.TryGetValue(address, out var known))
            {
                result[row] = matchesOf[address] = Match(address, ranges);
            }
            else
            {
                result[row] = known;
            }
        }
        return result;
    }

    /// <summary>The rows of the ranges that hold an address (both may carry a prefix: the shorter one decides).</summary>
    public static int[] Match(string address, List<(uint Address, int Prefix, int Row)> ranges) =>
        Ipv4.TryParse(address) is { } a
            ? [.. ranges.Where(r => Ipv4.InRange(a.Address, r.Address, Math.Min(a.Prefix, r.Prefix))).Select(r => r.Row)]
            : [];
}

/// <summary>
/// The lookup rows each row of one string column matches, for one list of ranges: filled in as runs read rows, kept
/// by the engine as long as the column lives. A run with other ranges (another watchlist) starts the list again.
/// Safe to use from several threads.
/// </summary>
internal sealed class AddressMatches
{
    private readonly Lock _lock = new();
    private List<(uint Address, int Prefix, int Row)> _ranges = [];
    private int[]? _setOfRow;
    private readonly List<int[]> _sets = [];
    private readonly Dictionary<string, int> _setOfAddress = new(StringComparer.Ordinal);

    /// <summary>Writes the matches of <paramref name="column"/>'s rows <paramref name="rows"/> into <paramref name="result"/>.</summary>
    public void Read(StringColumn column, int[] rows, List<(uint Address, int Prefix, int Row)> ranges, int[][] result)
    {
        lock (_lock)
        {
            if (_setOfRow is null || !_ranges.SequenceEqual(ranges))
            {
                _ranges = [.. ranges];
                // 0: not matched yet; otherwise the index of the row's match set, plus one.
                _setOfRow = new int[column.Count];
                _sets.Clear();
                _setOfAddress.Clear();
            }
            var values = column.Values;
            for (var i = 0; i < rows.Length; i++)
            {
                var row = rows[i];
                var set = _setOfRow[row];
                if (set == 0)
                {
                    var address = values[row];
                    if (!_setOfAddress.TryGetValue(address, out var index))
                    {
                        index = _sets.Count;
                        _sets.Add(Ipv4LookupNode.Match(address, ranges));
                        _setOfAddress[address] = index;
                    }
                    _setOfRow[row] = set = index + 1;
                }
                result[i] = _sets[set - 1];
            }
        }
    }
}
