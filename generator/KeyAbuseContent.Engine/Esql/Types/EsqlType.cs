namespace KeyAbuseContent.Engine.Esql.Types;

/// <summary>The ES|QL data types the executor knows. <c>text</c> reads as <c>keyword</c>.</summary>
internal enum EsqlType
{
    Null,
    Boolean,
    Integer,
    Long,
    Double,
    Keyword,
    Text,
    Date,
    Ip,
    TimeDuration,
    DatePeriod,
    Unsupported,
}

/// <summary>Type names, as ES|QL spells them and as casts and input tables may spell them.</summary>
internal static class EsqlTypes
{
    public static string Name(EsqlType type) => type switch
    {
        EsqlType.Null => "null",
        EsqlType.Boolean => "boolean",
        EsqlType.Integer => "integer",
        EsqlType.Long => "long",
        EsqlType.Double => "double",
        EsqlType.Keyword => "keyword",
        EsqlType.Text => "text",
        EsqlType.Date => "date",
        EsqlType.Ip => "ip",
        EsqlType.TimeDuration => "time_duration",
        EsqlType.DatePeriod => "date_period",
        _ => "unsupported",
    };

    public static bool IsNumeric(EsqlType type) => type is EsqlType.Integer or EsqlType.Long or EsqlType.Double;

    public static bool IsString(EsqlType type) => type is EsqlType.Keyword or EsqlType.Text;

    /// <summary>The type a <c>::</c> cast names; null when ES|QL has no such cast or the executor does not support it.</summary>
    public static EsqlType? FromCastName(string name) => name.ToLowerInvariant() switch
    {
        "bool" or "boolean" => EsqlType.Boolean,
        "int" or "integer" => EsqlType.Integer,
        "long" => EsqlType.Long,
        "double" => EsqlType.Double,
        "keyword" or "string" => EsqlType.Keyword,
        "text" => EsqlType.Text,
        "datetime" or "date" => EsqlType.Date,
        "ip" => EsqlType.Ip,
        "time_duration" => EsqlType.TimeDuration,
        "date_period" => EsqlType.DatePeriod,
        _ => null,
    };

    /// <summary>
    /// The type of an input column, from Elasticsearch mapping names or the KQL names the interchange table may
    /// carry; null for a type the executor cannot read (it becomes <c>unsupported</c>).
    /// </summary>
    public static EsqlType FromColumnType(string name) => name.ToLowerInvariant() switch
    {
        "keyword" or "constant_keyword" or "wildcard" or "string" or "match_only_text" => EsqlType.Keyword,
        "text" => EsqlType.Text,
        "long" or "unsigned_long" => EsqlType.Long,
        "integer" or "int" or "short" or "byte" => EsqlType.Integer,
        "double" or "float" or "half_float" or "scaled_float" or "real" or "decimal" => EsqlType.Double,
        "boolean" or "bool" => EsqlType.Boolean,
        "date" or "datetime" or "date_nanos" => EsqlType.Date,
        "ip" => EsqlType.Ip,
        "null" => EsqlType.Null,
        "timespan" or "time_duration" => EsqlType.TimeDuration,
        _ => EsqlType.Unsupported,
    };

    /// <summary>Text reads as keyword everywhere but in the column type it reports.</summary>
    public static EsqlType Widen(EsqlType type) => type == EsqlType.Text ? EsqlType.Keyword : type;
}
