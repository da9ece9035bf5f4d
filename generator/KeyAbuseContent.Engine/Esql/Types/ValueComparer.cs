using KeyAbuseContent.Engine.Esql.Evaluation;

namespace KeyAbuseContent.Engine.Esql.Types;

/// <summary>Orders boxed values of one ES|QL type (storage types, see <see cref="Execution.Block"/>) as Elasticsearch sorts them.</summary>
internal sealed class ValueComparer : IComparer<object?>
{
    private readonly EsqlType type;

    private ValueComparer(EsqlType type) => this.type = EsqlTypes.Widen(type);

    public static ValueComparer For(EsqlType type) => new(type);

    public int Compare(object? x, object? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : 1) : -1;
        }
        return type switch
        {
            EsqlType.Integer => ((int)x).CompareTo((int)y),
            EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration => ((long)x).CompareTo((long)y),
            EsqlType.Double => ((double)x).CompareTo((double)y),
            EsqlType.Boolean => ((bool)x).CompareTo((bool)y),
            EsqlType.Ip => ((UInt128)x).CompareTo((UInt128)y),
            EsqlType.Keyword => KeywordOrder.Compare((string)x, (string)y),
            _ => 0,
        };
    }
}
