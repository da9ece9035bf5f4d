namespace KeyAbuseContent.Engine.Esql.Execution;

/// <summary>
/// The rows between two commands: one block a column. A filter does not copy the columns: it records the
/// selected positions, and a column is selected only when a later command reads it, so columns that are never
/// read again (or are dropped) cost nothing.
/// </summary>
internal sealed class Page
{
    private readonly Column[] columns;

    public Page(int positionCount, IReadOnlyList<Block> blocks)
    {
        PositionCount = positionCount;
        columns = new Column[blocks.Count];
        for (var i = 0; i < blocks.Count; i++)
        {
            columns[i] = new Column(blocks[i], null);
        }
    }

    private Page(int positionCount, Column[] columns)
    {
        PositionCount = positionCount;
        this.columns = columns;
    }

    public int PositionCount { get; }

    public int ColumnCount => columns.Length;

    /// <summary>The block of a column, with the pending selection applied (once).</summary>
    public Block Block(int column)
    {
        ref var c = ref columns[column];
        if (c.Selection is { } selection)
        {
            c = new Column(c.Block.Select(selection), null);
        }
        return c.Block;
    }

    /// <summary>The rows at <paramref name="positions"/>, lazily.</summary>
    public Page Filter(int[] positions)
    {
        if (positions.Length == PositionCount && IsIdentity(positions))
        {
            return this;
        }
        var composed = new Dictionary<int[], int[]>(ReferenceEqualityComparer.Instance);
        var result = new Column[columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            var c = columns[i];
            if (c.Block.IsConstant)
            {
                result[i] = new Column(c.Block.AsConstant(positions.Length), null);
            }
            else if (c.Selection is null)
            {
                result[i] = new Column(c.Block, positions);
            }
            else
            {
                if (!composed.TryGetValue(c.Selection, out var selection))
                {
                    selection = new int[positions.Length];
                    for (var j = 0; j < positions.Length; j++)
                    {
                        selection[j] = c.Selection[positions[j]];
                    }
                    composed[c.Selection] = selection;
                }
                result[i] = new Column(c.Block, selection);
            }
        }
        return new Page(positions.Length, result);
    }

    /// <summary>The columns listed, in that order, keeping pending selections.</summary>
    public Page Project(IReadOnlyList<int> columnIndexes)
    {
        var result = new Column[columnIndexes.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = columns[columnIndexes[i]];
        }
        return new Page(PositionCount, result);
    }

    /// <summary>This page with one more column at the end.</summary>
    public Page Append(Block block)
    {
        var result = new Column[columns.Length + 1];
        Array.Copy(columns, result, columns.Length);
        result[^1] = new Column(block, null);
        return new Page(PositionCount, result);
    }

    /// <summary>This page with a column replaced by another block (same position count).</summary>
    public Page Replace(int column, Block block)
    {
        var result = (Column[])columns.Clone();
        result[column] = new Column(block, null);
        return new Page(PositionCount, result);
    }

    private static bool IsIdentity(int[] positions)
    {
        for (var i = 0; i < positions.Length; i++)
        {
            if (positions[i] != i)
            {
                return false;
            }
        }
        return true;
    }

    private readonly record struct Column(Block Block, int[]? Selection);
}
