using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Execution.Tabular;
using KeyAbuseContent.Engine.Kql.Storage;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql.Binding;

// Tabular operators: each binds its expressions against the input's columns and builds the output schema.
internal sealed partial class QueryBinder
{
    private TabularNode BindOperator(TabularNode input, OperatorSyntax op)
    {
        var row = new RowContext(input.Schema);
        switch (op)
        {
            case WhereSyntax where:
                var predicate = BindScalar(where.Predicate, row);
                if (predicate.Type is not (KqlType.Bool or KqlType.Dynamic))
                {
                    throw Error(where.Predicate.Position, $"where needs a bool predicate, not {predicate.Type.Name()}");
                }
                return new FilterNode(input, predicate);
            case ExtendSyntax extend:
                return BindExtend(input, extend.Items);
            case SerializeSyntax serialize:
                return serialize.Items.IsEmpty ? input : BindExtend(input, serialize.Items);
            case ProjectSyntax project:
                return BindProject(input, project.Items);
            case ProjectAwaySyntax away:
                return BindProjectAway(input, away);
            case ProjectRenameSyntax rename:
                return BindProjectRename(input, rename);
            case ProjectReorderSyntax reorder:
                return BindProjectReorder(input, reorder);
            case SummarizeSyntax summarize:
                return BindSummarize(input, summarize.Aggregates, summarize.By);
            case DistinctSyntax distinct:
                var keys = distinct.Items.IsEmpty
                    ? input.Schema.Columns.Select(c => (ExprSyntax)new NameSyntax(distinct.Position, c.Name)).ToImmutableArray()
                    : distinct.Items;
                return BindSummarize(input, [], keys);
            case CountSyntax count:
                return BindSummarize(input, [new NamedSyntax(count.Position, ["Count"], new CallSyntax(count.Position, "count", []))], []);
            case JoinSyntax join:
                return BindJoin(input, join.Kind ?? "innerunique", join.Right, join.On, lookup: false, join.Position);
            case LookupSyntax lookup:
                return BindJoin(input, lookup.Kind ?? "leftouter", lookup.Right, lookup.On, lookup: true, lookup.Position);
            case UnionSyntax union:
                return BindUnion(input, union.Options, union.Tables);
            case SortSyntax sort:
                return new SortNode(input, [.. sort.Keys.Select(k => BindSortKey(k, row))], null);
            case TopSyntax top:
                return new SortNode(input, [BindSortKey(top.Key, row)], BindCount(top.Count, "top"));
            case TakeSyntax take:
                return new TakeNode(input, BindCount(take.Count, "take"));
            case MvExpandSyntax mvExpand:
                return BindMvExpand(input, mvExpand);
            case ParseSyntax parse:
                return BindParse(input, parse);
            case EvaluateSyntax { Plugin.Name: "ipv4_lookup" } evaluate:
                return BindIpv4Lookup(input, evaluate.Plugin);
            case EvaluateSyntax { Plugin.Name: "ipv6_lookup" } evaluate:
                return BindIpv4Lookup(input, evaluate.Plugin, v6: true);
            case EvaluateSyntax evaluate:
                throw Unsupported(evaluate.Position, $"evaluate {evaluate.Plugin.Name}() (its columns depend on the data)");
            default:
                throw Unsupported(op.Position, $"the operator {op.GetType().Name}");
        }
    }

    private ScalarNode BindCount(ExprSyntax syntax, string op)
    {
        var count = BindScalar(syntax, RowContext.None);
        if (!count.Type.IsInteger())
        {
            throw Error(syntax.Position, $"{op} needs an integer count, not {count.Type.Name()}");
        }
        return count;
    }

    private SortKey BindSortKey(OrderedSyntax key, RowContext row)
    {
        var expr = BindScalar(key.Expr, row);
        var descending = key.Descending ?? true;
        return new SortKey(expr, descending, key.NullsFirst ?? !descending);
    }

    /// <summary>
    /// extend: every item is computed from the input's columns (an item does not see the others, as in Kusto); a
    /// declared or derived name that exists is replaced in place, and a later item replaces an earlier one.
    /// </summary>
    private TabularNode BindExtend(TabularNode input, ImmutableArray<ExprSyntax> items)
    {
        var projection = Projection.Of(input.Schema);
        var row = new RowContext(input.Schema);
        foreach (var item in items)
        {
            if (item is NamedSyntax named)
            {
                if (named.Names.Length != 1)
                {
                    throw Unsupported(named.Position, "assigning several names at once outside summarize");
                }
                projection.Set(named.Names[0], BindScalar(named.Value, row));
                continue;
            }
            var node = BindScalar(item, row);
            if (ColumnNames.ResultName(item, input.Schema) is { } name)
            {
                projection.Set(name, node);
            }
            else
            {
                projection.AppendUnnamed(node);
            }
        }
        return new ProjectNode(input, projection.Schema(), [.. projection.Nodes]);
    }

    private TabularNode BindProject(TabularNode input, ImmutableArray<ExprSyntax> items)
    {
        var projection = new Projection();
        var row = new RowContext(input.Schema);
        foreach (var item in items)
        {
            if (item is NamedSyntax named)
            {
                if (named.Names.Length != 1)
                {
                    throw Unsupported(named.Position, "assigning several names at once outside summarize");
                }
                if (projection.IndexOf(named.Names[0]) >= 0)
                {
                    throw Error(named.Position, $"the column '{named.Names[0]}' is projected twice");
                }
                projection.Append(named.Names[0], BindScalar(named.Value, row));
                continue;
            }
            var node = BindScalar(item, row);
            if (ColumnNames.ResultName(item, input.Schema) is { } name)
            {
                if (node is ColumnNode && projection.IndexOf(name) >= 0)
                {
                    throw Error(item.Position, $"the column '{name}' is projected twice");
                }
                projection.AppendUnique(name, node);
            }
            else
            {
                projection.AppendUnnamed(node);
            }
        }
        return new ProjectNode(input, projection.Schema(), [.. projection.Nodes]);
    }

    private TabularNode BindProjectAway(TabularNode input, ProjectAwaySyntax away)
    {
        var matched = new bool[input.Schema.Count];
        foreach (var pattern in away.Patterns)
        {
            var any = false;
            for (var i = 0; i < matched.Length; i++)
            {
                if (ColumnNames.Matches(pattern.Name, input.Schema.Columns[i].Name))
                {
                    matched[i] = true;
                    any = true;
                }
            }
            if (!any && !pattern.Name.Contains('*'))
            {
                throw Error(pattern.Position, $"{(away.Keep ? "project-keep" : "project-away")}: there is no column '{pattern.Name}'");
            }
        }
        var projection = new Projection();
        for (var i = 0; i < matched.Length; i++)
        {
            if (matched[i] == away.Keep)
            {
                projection.Append(input.Schema.Columns[i].Name, new ColumnNode(i, input.Schema.Columns[i]));
            }
        }
        return new ProjectNode(input, projection.Schema(), [.. projection.Nodes]);
    }

    private TabularNode BindProjectRename(TabularNode input, ProjectRenameSyntax rename)
    {
        var names = input.Schema.Columns.Select(c => c.Name).ToList();
        foreach (var (position, newName, oldName) in rename.Renames)
        {
            var i = input.Schema.IndexOf(oldName);
            if (i < 0)
            {
                throw Error(position, $"project-rename: there is no column '{oldName}'");
            }
            names[i] = newName;
        }
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
        {
            throw Error(rename.Position, "project-rename: two columns would have the same name");
        }
        var nodes = input.Schema.Columns.Select((c, i) => (ScalarNode)new ColumnNode(i, c)).ToImmutableArray();
        return new ProjectNode(input, new TableSchema(names.Select((n, i) => new ColumnSymbol(n, input.Schema.Columns[i].Type))), nodes);
    }

    private TabularNode BindProjectReorder(TabularNode input, ProjectReorderSyntax reorder)
    {
        var order = new List<int>();
        foreach (var pattern in reorder.Patterns)
        {
            var name = ((NameSyntax)pattern.Expr).Name;
            var matches = Enumerable.Range(0, input.Schema.Count).Where(i => ColumnNames.Matches(name, input.Schema.Columns[i].Name) && !order.Contains(i)).ToList();
            if (matches.Count == 0 && !name.Contains('*'))
            {
                throw Error(pattern.Position, $"project-reorder: there is no column '{name}'");
            }
            if (pattern.Descending is { } descending)
            {
                matches.Sort((a, b) => string.CompareOrdinal(input.Schema.Columns[a].Name, input.Schema.Columns[b].Name) * (descending ? -1 : 1));
            }
            order.AddRange(matches);
        }
        order.AddRange(Enumerable.Range(0, input.Schema.Count).Where(i => !order.Contains(i)));
        var projection = new Projection();
        foreach (var i in order)
        {
            projection.Append(input.Schema.Columns[i].Name, new ColumnNode(i, input.Schema.Columns[i]));
        }
        return new ProjectNode(input, projection.Schema(), [.. projection.Nodes]);
    }

    private TabularNode BindJoin(TabularNode left, string kind, ExprSyntax rightSyntax, ImmutableArray<ExprSyntax> on, bool lookup, int position)
    {
        kind = kind switch
        {
            "anti" or "leftantisemi" => "leftanti",
            "rightantisemi" => "rightanti",
            _ => kind,
        };
        var kinds = lookup ? new[] { "leftouter", "inner" } : ["innerunique", "inner", "leftouter", "rightouter", "fullouter", "leftanti", "rightanti", "leftsemi", "rightsemi"];
        if (!kinds.Contains(kind))
        {
            throw Unsupported(position, $"{(lookup ? "lookup" : "join")} kind={kind}");
        }
        var right = BindTabular(rightSyntax);
        var keys = ImmutableArray.CreateBuilder<JoinKey>();
        var rightKeyColumns = new HashSet<int>();
        foreach (var condition in on)
        {
            var (l, r) = JoinColumns(condition, left.Schema, right.Schema);
            var lt = left.Schema.Columns[l].Type;
            var rt = right.Schema.Columns[r].Type;
            var domain = lt == rt ? lt
                : lt.IsInteger() && rt.IsInteger() ? KqlType.Long
                : lt.IsNumeric() && rt.IsNumeric() ? KqlType.Real
                : throw Error(condition.Position, $"join keys '{left.Schema.Columns[l].Name}' ({lt.Name()}) and '{right.Schema.Columns[r].Name}' ({rt.Name()}) have different types");
            keys.Add(new JoinKey(l, r, domain));
            rightKeyColumns.Add(r);
        }
        var names = new List<string>();
        var columns = new List<ColumnSymbol>();
        var outputs = ImmutableArray.CreateBuilder<JoinOutput>();
        var leftColumns = kind is not ("rightanti" or "rightsemi");
        var rightColumns = kind is not ("leftanti" or "leftsemi");
        if (leftColumns)
        {
            for (var i = 0; i < left.Schema.Count; i++)
            {
                columns.Add(left.Schema.Columns[i]);
                outputs.Add(new JoinOutput(true, i));
            }
        }
        if (rightColumns)
        {
            for (var i = 0; i < right.Schema.Count; i++)
            {
                if (lookup && rightKeyColumns.Contains(i))
                {
                    continue;
                }
                var column = right.Schema.Columns[i];
                var name = Projection.UniqueName(column.Name, n => columns.Exists(c => c.Name == n));
                columns.Add(new ColumnSymbol(name, column.Type));
                outputs.Add(new JoinOutput(false, i));
            }
        }
        return new JoinNode(left, right, kind, keys.ToImmutable(), new TableSchema(columns), outputs.ToImmutable());
    }

    /// <summary>
    /// <c>evaluate ipv4_lookup(LookupTable, SourceIPv4Key, IPv4LookupKey [, return_unmatched])</c>, with
    /// <c>return_unmatched</c> positional or named; the extra equality keys of the plugin are not in the subset. With
    /// <paramref name="v6"/>, <c>ipv6_lookup</c>, whose arguments are the same (it has no extra keys).
    /// </summary>
    private TabularNode BindIpv4Lookup(TabularNode input, CallSyntax plugin, bool v6 = false)
    {
        var name = plugin.Name;
        var args = plugin.Arguments;
        var returnUnmatched = false;
        if (args.Length == 4)
        {
            var flag = args[3] is NamedSyntax { Names: ["return_unmatched"] } named ? named.Value : args[3];
            returnUnmatched = flag is LiteralSyntax { Type: KqlType.Bool, Value: bool b } ? b
                : throw Error(flag.Position, $"{name}'s return_unmatched is a bool literal");
        }
        else if (args.Length != 3)
        {
            throw v6
                ? Error(plugin.Position, "ipv6_lookup() takes (LookupTable, SourceIPv6Key, IPv6LookupKey [, return_unmatched])")
                : Unsupported(plugin.Position, "ipv4_lookup() with other than (LookupTable, SourceIPv4Key, IPv4LookupKey [, return_unmatched]): extra keys");
        }
        var lookup = BindTabular(args[0]);
        var source = KeyColumn(args[1], input.Schema, "the input");
        var key = KeyColumn(args[2], lookup.Schema, "the lookup table");
        var columns = new List<ColumnSymbol>(input.Schema.Columns);
        var outputs = ImmutableArray.CreateBuilder<JoinOutput>();
        for (var i = 0; i < input.Schema.Count; i++)
        {
            outputs.Add(new JoinOutput(true, i));
        }
        for (var i = 0; i < lookup.Schema.Count; i++)
        {
            var column = lookup.Schema.Columns[i];
            columns.Add(new ColumnSymbol(Projection.UniqueName(column.Name, n => columns.Exists(c => c.Name == n)), column.Type));
            outputs.Add(new JoinOutput(false, i));
        }
        return v6
            ? new Ipv6LookupNode(input, lookup, source, key, returnUnmatched, new TableSchema(columns), outputs.ToImmutable())
            : new Ipv4LookupNode(input, lookup, source, key, returnUnmatched, new TableSchema(columns), outputs.ToImmutable());

        int KeyColumn(ExprSyntax syntax, TableSchema schema, string side)
        {
            var ordinal = syntax is NameSyntax column ? schema.IndexOf(column.Name) : throw Error(syntax.Position, $"{name}'s keys are column names");
            if (ordinal < 0)
            {
                throw Error(syntax.Position, $"'{((NameSyntax)syntax).Name}' is not a column of {side}");
            }
            if (schema.Columns[ordinal].Type != KqlType.String)
            {
                throw Error(syntax.Position, $"{name}'s key '{schema.Columns[ordinal].Name}' is {schema.Columns[ordinal].Type.Name()}, not string");
            }
            return ordinal;
        }
    }

    /// <summary>The left and right column of a join condition: <c>Key</c>, or <c>$left.a == $right.b</c> either way round.</summary>
    private (int Left, int Right) JoinColumns(ExprSyntax condition, TableSchema left, TableSchema right)
    {
        switch (condition)
        {
            case NameSyntax name:
                var l = left.IndexOf(name.Name);
                var r = right.IndexOf(name.Name);
                if (l < 0 || r < 0)
                {
                    throw Error(name.Position, $"the join key '{name.Name}' is not a column of the {(l < 0 ? "left" : "right")} side");
                }
                return (l, r);
            case BinarySyntax { Operator: "==" } equality
                when Side(equality.Left) is { } a && Side(equality.Right) is { } b && a.Side != b.Side:
                var (leftName, rightName) = a.Side == "$left" ? (a.Name, b.Name) : (b.Name, a.Name);
                var li = left.IndexOf(leftName);
                var ri = right.IndexOf(rightName);
                if (li < 0)
                {
                    throw Error(condition.Position, $"$left.{leftName} is not a column of the left side");
                }
                if (ri < 0)
                {
                    throw Error(condition.Position, $"$right.{rightName} is not a column of the right side");
                }
                return (li, ri);
            default:
                throw Unsupported(condition.Position, "a join condition other than a column name or $left.a == $right.b");
        }

        static (string Side, string Name)? Side(ExprSyntax e) =>
            e is MemberSyntax { Target: NameSyntax { Name: "$left" or "$right" } side } member ? (side.Name, member.Member) : null;
    }

    /// <summary>union: columns by name; a name with different types becomes one column per type (<c>V_long</c>, <c>V_int</c>).</summary>
    private TabularNode BindUnion(TabularNode? first, UnionOptions options, ImmutableArray<ExprSyntax> tables)
    {
        var inputs = new List<TabularNode>();
        var sourceNames = new List<string>();
        if (first is not null)
        {
            inputs.Add(first);
            sourceNames.Add("union_arg0");
        }
        foreach (var table in tables)
        {
            inputs.Add(BindTabular(table));
            sourceNames.Add(table is NameSyntax n ? n.Name : table is CallSyntax c ? c.Name : $"union_arg{sourceNames.Count}");
        }
        var typesByName = new Dictionary<string, List<KqlType>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var input in inputs)
        {
            foreach (var column in input.Schema.Columns)
            {
                if (!typesByName.TryGetValue(column.Name, out var types))
                {
                    typesByName[column.Name] = types = [];
                    order.Add(column.Name);
                }
                if (!types.Contains(column.Type))
                {
                    types.Add(column.Type);
                }
            }
        }
        var columns = new List<ColumnSymbol>();
        if (options.WithSource is { } withSource)
        {
            columns.Add(new ColumnSymbol(withSource, KqlType.String));
        }
        foreach (var name in order)
        {
            var types = typesByName[name];
            if (options.Inner && !inputs.All(i => i.Schema.Columns.Any(c => c.Name == name && c.Type == types[0])))
            {
                continue;
            }
            if (types.Count == 1)
            {
                columns.Add(new ColumnSymbol(name, types[0]));
            }
            else
            {
                columns.AddRange(types.Select(t => new ColumnSymbol($"{name}_{t.Name()}", t)));
            }
        }
        var mappings = inputs.Select(input => columns.Select(c =>
        {
            for (var i = 0; i < input.Schema.Count; i++)
            {
                var ic = input.Schema.Columns[i];
                if (ic.Type == c.Type && (ic.Name == c.Name || $"{ic.Name}_{ic.Type.Name()}" == c.Name))
                {
                    return i;
                }
            }
            return -1;
        }).ToImmutableArray()).ToImmutableArray();
        return new UnionNode(new TableSchema(columns), [.. inputs], mappings, [.. sourceNames], options.WithSource is null ? -1 : 0);
    }

    private TabularNode BindMvExpand(TabularNode input, MvExpandSyntax mvExpand)
    {
        var row = new RowContext(input.Schema);
        var columns = input.Schema.Columns.ToList();
        var expanded = ImmutableArray.CreateBuilder<MvExpandColumn>();
        foreach (var item in mvExpand.Items)
        {
            var node = BindScalar(item.Expr, row);
            var name = item.Name ?? ColumnNames.ResultName(item.Expr, input.Schema)
                ?? throw Error(item.Position, "mv-expand of an expression needs a name: Name = expression");
            var type = item.To ?? KqlType.Dynamic;
            var ordinal = columns.FindIndex(c => c.Name == name);
            if (ordinal >= 0)
            {
                columns[ordinal] = new ColumnSymbol(name, type);
            }
            else
            {
                ordinal = columns.Count;
                columns.Add(new ColumnSymbol(name, type));
            }
            expanded.Add(new MvExpandColumn(node, ordinal, type));
        }
        var indexOrdinal = -1;
        if (mvExpand.ItemIndex is { } indexName)
        {
            indexOrdinal = columns.Count;
            columns.Add(new ColumnSymbol(indexName, KqlType.Long));
        }
        var limit = mvExpand.Limit is null ? null : BindCount(mvExpand.Limit, "mv-expand limit");
        return new MvExpandNode(input, new TableSchema(columns), expanded.ToImmutable(), mvExpand.ArrayKind, indexOrdinal, limit);
    }

    private TabularNode BindParse(TabularNode input, ParseSyntax parse)
    {
        var source = BindScalar(parse.Source, new RowContext(input.Schema));
        var pattern = new StringBuilder("^");
        var columns = input.Schema.Columns.ToList();
        var parsed = ImmutableArray.CreateBuilder<ParseColumn>();
        var regexMode = parse.Kind == "regex";
        for (var i = 0; i < parse.Parts.Length; i++)
        {
            var part = parse.Parts[i];
            if (part.Star)
            {
                pattern.Append(i == parse.Parts.Length - 1 ? ".*" : ".*?");
            }
            else if (part.Literal is { } literal)
            {
                pattern.Append(regexMode ? literal : Regex.Escape(literal));
            }
            else
            {
                var group = "c" + parsed.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var last = i == parse.Parts.Length - 1;
                var capture = part.Type switch
                {
                    KqlType.Long or KqlType.Int => @"-?\d+",
                    KqlType.Real => @"-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?",
                    KqlType.String when regexMode || last => ".*",
                    _ => last ? ".*" : ".*?",
                };
                pattern.Append("(?<").Append(group).Append('>').Append(capture).Append(')');
                var ordinal = columns.FindIndex(c => c.Name == part.Column);
                if (ordinal >= 0)
                {
                    columns[ordinal] = new ColumnSymbol(part.Column!, part.Type);
                }
                else
                {
                    ordinal = columns.Count;
                    columns.Add(new ColumnSymbol(part.Column!, part.Type));
                }
                parsed.Add(new ParseColumn(group, part.Type, ordinal));
            }
        }
        var options = RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;
        foreach (var flag in parse.Flags ?? "")
        {
            options |= flag switch
            {
                'i' => RegexOptions.IgnoreCase,
                'm' => RegexOptions.Multiline,
                's' => RegexOptions.Singleline,
                'U' => RegexOptions.None,
                _ => throw Error(parse.Position, $"parse flag '{flag}' is not one of i, m, s, U"),
            };
        }
        Regex regex;
        try
        {
            regex = new Regex(pattern.ToString(), options, TimeSpan.FromSeconds(5));
        }
        catch (ArgumentException e)
        {
            throw Error(parse.Position, $"the parse pattern does not make a valid regular expression: {e.Message}");
        }
        return new ParseNode(input, new TableSchema(columns), source, regex, parsed.ToImmutable(), parse.Kind == "relaxed");
    }
}
