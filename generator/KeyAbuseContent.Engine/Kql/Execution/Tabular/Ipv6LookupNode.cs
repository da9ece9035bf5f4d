using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Functions;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>
/// <c>evaluate ipv6_lookup(LookupTable, SourceIPv6Key, IPv6LookupKey [, return_unmatched])</c>: each input row joined
/// with every lookup row whose range holds its address, in lookup order, as <see cref="Ipv4LookupNode"/> does for IPv4;
/// both keys may carry a prefix and match when they agree on the shorter one. An IPv4 address or range is read as its
/// IPv4-mapped IPv6 address (<see cref="Ipv6"/>), as Kusto's ipv6 functions read one. Rows without a match are
/// dropped, or kept with null lookup columns when <c>return_unmatched</c> is true; text that is not an address matches
/// nothing. Each distinct address text is matched once per execution.
/// </summary>
internal sealed class Ipv6LookupNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly TabularNode _lookup;
    private readonly int _sourceKey;
    private readonly int _lookupKey;
    private readonly bool _returnUnmatched;
    private readonly ImmutableArray<JoinOutput> _outputs;

    public Ipv6LookupNode(TabularNode input, TabularNode lookup, int sourceKey, int lookupKey, bool returnUnmatched, TableSchema schema, ImmutableArray<JoinOutput> outputs)
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
        var ranges = new List<(UInt128 Address, int Prefix, int Row)>();
        var keys = lookup.Columns[_lookupKey];
        for (var r = 0; r < lookup.RowCount; r++)
        {
            if (keys.GetValue(r) is string text && Ipv6.TryParse(text) is { } range)
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
            var matches = ranges.Count > 0 && source.GetValue(row) is string address ? Matches(address) : [];
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
            var found = Ipv6.TryParse(address) is { } a
                ? [.. ranges.Where(r => Ipv6.InRange(a.Address, r.Address, Math.Min(a.Prefix, r.Prefix))).Select(r => r.Row)]
                : Array.Empty<int>();
            matchesOf[address] = found;
            return found;
        }
    }
}
