namespace KeyAbuseContent.Engine.Kql;

/// <summary>The scalar types the executor knows; <c>decimal</c> is outside the subset.</summary>
internal enum KqlType : byte
{
    Bool,
    Int,
    Long,
    Real,
    DateTime,
    TimeSpan,
    String,
    Dynamic,
    Guid,
}

/// <summary>Names, parsing and classification of <see cref="KqlType"/>.</summary>
internal static class KqlTypes
{
    /// <summary>The KQL spelling of a type, as result columns carry it.</summary>
    public static string Name(this KqlType type) => type switch
    {
        KqlType.Bool => "bool",
        KqlType.Int => "int",
        KqlType.Long => "long",
        KqlType.Real => "real",
        KqlType.DateTime => "datetime",
        KqlType.TimeSpan => "timespan",
        KqlType.String => "string",
        KqlType.Dynamic => "dynamic",
        KqlType.Guid => "guid",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>A type from its KQL name or an alias (<c>double</c>, <c>boolean</c>, <c>date</c>, <c>time</c>, <c>uniqueid</c>).</summary>
    public static bool TryParse(string name, out KqlType type)
    {
        switch (name.ToLowerInvariant())
        {
            case "bool" or "boolean": type = KqlType.Bool; return true;
            case "int" or "int32": type = KqlType.Int; return true;
            case "long" or "int64" or "bigint": type = KqlType.Long; return true;
            case "real" or "double": type = KqlType.Real; return true;
            case "datetime" or "date": type = KqlType.DateTime; return true;
            case "timespan" or "time": type = KqlType.TimeSpan; return true;
            case "string": type = KqlType.String; return true;
            case "dynamic": type = KqlType.Dynamic; return true;
            case "guid" or "uniqueid": type = KqlType.Guid; return true;
            default: type = default; return false;
        }
    }

    public static bool IsNumeric(this KqlType type) => type is KqlType.Int or KqlType.Long or KqlType.Real;

    public static bool IsInteger(this KqlType type) => type is KqlType.Int or KqlType.Long;

    /// <summary>Types stored as 64-bit integers: long, and datetime and timespan as ticks.</summary>
    public static bool IsTicksOrLong(this KqlType type) => type is KqlType.Long or KqlType.DateTime or KqlType.TimeSpan;

    /// <summary>The wider of two numeric types (int &lt; long &lt; real).</summary>
    public static KqlType WidestNumeric(KqlType a, KqlType b) =>
        a == KqlType.Real || b == KqlType.Real ? KqlType.Real : KqlType.Long;
}
