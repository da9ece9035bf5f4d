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
/// Each distinct address text is matched once per execution.
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

        var matchesOf = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var source = input.Columns[_sourceKey];
        var inputRows = new List<int>(input.RowCount);
        var lookupRows = new List<int>(input.RowCount);
        var oneToOne = true;
        for (var row = 0; row < input.RowCount; row++)
        {
            var matches = source.GetValue(row) is string address ? Matches(address) : [];
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

        int[] Matches(string address)
        {
            if (matchesOf.TryGetValue(address, out var known))
            {
                return known;
            }
            var found = Ipv4.TryParse(address) is { } a
                ? [.. ranges.Where(r => Ipv4.InRange(a.Address, r.Address, Math.Min(a.Prefix, r.Prefix))).Select(r => r.Row)]
                : Array.Empty<int>();
            matchesOf[address] = found;
            return found;
        }
    }
}
