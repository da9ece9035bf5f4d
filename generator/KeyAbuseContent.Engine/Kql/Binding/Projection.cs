using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Binding;

/// <summary>
/// Builds the output columns of extend, project, summarize and the like with Kusto's naming: a declared name
/// replaces (extend) or must be new; a derived name that is taken gets a number (<c>t1</c>), and a column with no
/// derivable name is <c>Column1</c>, <c>Column2</c>, ...
/// </summary>
internal sealed class Projection
{
    private readonly List<ColumnSymbol> _columns = [];
    private readonly List<ScalarNode> _nodes = [];

    public int Count => _columns.Count;

    public IReadOnlyList<ColumnSymbol> Columns => _columns;

    public IReadOnlyList<ScalarNode> Nodes => _nodes;

    /// <summary>All columns of a schema, as references.</summary>
    public static Projection Of(TableSchema schema)
    {
        var projection = new Projection();
        for (var i = 0; i < schema.Count; i++)
        {
            projection.Append(schema.Columns[i].Name, new ColumnNode(i, schema.Columns[i]));
        }
        return projection;
    }

    public int IndexOf(string name) => _columns.FindIndex(c => c.Name == name);

    /// <summary>Sets a column: replaced in place when the name exists, appended otherwise.</summary>
    public void Set(string name, ScalarNode node)
    {
        var i = IndexOf(name);
        if (i >= 0)
        {
            _columns[i] = new ColumnSymbol(name, node.Type);
            _nodes[i] = node;
            return;
        }
        Append(name, node);
    }

    public void Append(string name, ScalarNode node)
    {
        _columns.Add(new ColumnSymbol(name, node.Type));
        _nodes.Add(node);
    }

    /// <summary>Appends under <paramref name="name"/>, or <c>name1</c>, <c>name2</c>... when it is taken; returns the name used.</summary>
    public string AppendUnique(string name, ScalarNode node)
    {
        var unique = UniqueName(name, n => IndexOf(n) >= 0);
        Append(unique, node);
        return unique;
    }

    /// <summary>The next free <c>ColumnN</c>.</summary>
    public string AppendUnnamed(ScalarNode node) => AppendUnique(NextColumnName(n => IndexOf(n) >= 0), node);

    public void RemoveAt(int index)
    {
        _columns.RemoveAt(index);
        _nodes.RemoveAt(index);
    }

    public TableSchema Schema() => new(_columns);

    public static string UniqueName(string name, Func<string, bool> taken)
    {
        if (!taken(name))
        {
            return name;
        }
        for (var i = 1; ; i++)
        {
            var candidate = name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!taken(candidate))
            {
                return candidate;
            }
        }
    }

    public static string NextColumnName(Func<string, bool> taken)
    {
        for (var i = 1; ; i++)
        {
            var candidate = "Column" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!taken(candidate))
            {
                return candidate;
            }
        }
    }
}
