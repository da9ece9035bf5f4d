namespace KeyAbuseContent.Tests.Expressions;

/// <summary>Every row of the operator table in Expressions/README.md renders as the table says.</summary>
public class OperatorTableTests
{
    public static TheoryData<string, string, string> Rows()
    {
        var readme = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "generator", "KeyAbuseContent", "Expressions", "README.md"));
        var start = Array.FindIndex(readme, l => l.StartsWith("| language | KQL |", StringComparison.Ordinal));
        var data = new TheoryData<string, string, string>();
        foreach (var line in readme.Skip(start + 2).TakeWhile(l => l.StartsWith('|')))
        {
            var cells = Cells(line);
            data.Add(cells[0], cells[1], cells[2]);
        }
        return data;
    }

    /// <summary>The cells of a markdown table row, with code spans unwrapped and escaped pipes restored.</summary>
    private static List<string> Cells(string row)
    {
        var cells = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 1; i < row.Length; i++)
        {
            if (row[i] == '\\' && i + 1 < row.Length && row[i + 1] == '|')
            {
                current.Append('|');
                i++;
            }
            else if (row[i] == '|')
            {
                cells.Add(current.ToString().Trim().Trim('`'));
                current.Clear();
            }
            else
            {
                current.Append(row[i]);
            }
        }
        return cells;
    }

    [Fact]
    public void TheTableHasRows() => Assert.True(Rows().Count >= 20);

    [Theory]
    [MemberData(nameof(Rows))]
    public void KqlRenderingMatchesTheTable(string expression, string kql, string esql)
    {
        _ = esql;
        Assert.Equal(kql, ExpressionTestKit.Kql(expression));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void EsqlRenderingMatchesTheTable(string expression, string kql, string esql)
    {
        _ = kql;
        Assert.Equal(esql, ExpressionTestKit.Esql(expression));
    }
}
