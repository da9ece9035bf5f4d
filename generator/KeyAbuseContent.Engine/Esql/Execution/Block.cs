using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Execution;

/// <summary>
/// A column of values, one position a row, laid out as Elasticsearch's compute engine lays out its blocks: a
/// typed array of values; a null flag per position while every position holds at most one value; and, once a
/// position holds several values (a multi-value), the index of each position's first value instead. A constant
/// block holds one position that stands for every position.
/// </summary>
/// <remarks>
/// Storage by type: boolean <c>bool</c>; integer <c>int</c>; long, date (epoch milliseconds, UTC) and
/// time_duration (milliseconds) <c>long</c>; double <c>double</c>; keyword and text <c>string</c>; ip
/// <see cref="UInt128"/> (IPv4 mapped into IPv6, so byte order is value order); date_period
/// <see cref="DatePeriod"/>; null and unsupported <c>bool</c> with every position null.
/// </remarks>
internal abstract class Block
{
    protected Block(EsqlType type, int positionCount, bool[]? nulls, int[]? firstValues, bool constant)
    {
        Type = type;
        PositionCount = positionCount;
        Nulls = nulls;
        FirstValues = firstValues;
        IsConstant = constant;
    }

    public EsqlType Type { get; }

    public int PositionCount { get; }

    /// <summary>Null flags by position, when <see cref="FirstValues"/> is null; null when no position is null.</summary>
    public bool[]? Nulls { get; }

    /// <summary>The first value index of each position and, last, the value count; null when no position holds several values.</summary>
    public int[]? FirstValues { get; }

    /// <summary>Every position reads position 0.</summary>
    public bool IsConstant { get; }

    /// <summary>Whether some position may hold several values.</summary>
    public bool MayHaveMultiValues => FirstValues is not null;

    /// <summary>Whether no position is null and none holds several values: the fast paths read Values[p] directly.</summary>
    public bool IsDense => !IsConstant && FirstValues is null && Nulls is null;

    public bool IsNull(int position)
    {
        var p = IsConstant ? 0 : position;
        return FirstValues is { } first ? first[p + 1] == first[p] : Nulls is { } nulls && nulls[p];
    }

    public int ValueCount(int position)
    {
        var p = IsConstant ? 0 : position;
        if (FirstValues is { } first)
        {
            return first[p + 1] - first[p];
        }
        return Nulls is { } nulls && nulls[p] ? 0 : 1;
    }

    public int FirstValueIndex(int position)
    {
        var p = IsConstant ? 0 : position;
        return FirstValues is { } first ? first[p] : p;
    }

    /// <summary>One stored value, boxed in its storage type (see remarks).</summary>
    public abstract object? BoxValue(int valueIndex);

    /// <summary>A position's value in storage types: null, one boxed value, or an <see cref="ImmutableArray{T}"/> of them.</summary>
    public object? BoxPosition(int position)
    {
        var count = ValueCount(position);
        if (count == 0)
        {
            return null;
        }
        var first = FirstValueIndex(position);
        if (count == 1)
        {
            return BoxValue(first);
        }
        var values = ImmutableArray.CreateBuilder<object?>(count);
        for (var i = 0; i < count; i++)
        {
            values.Add(BoxValue(first + i));
        }
        return values.MoveToImmutable();
    }

    /// <summary>The positions listed, in order (a position may repeat).</summary>
    public abstract Block Select(ReadOnlySpan<int> positions);

    /// <summary>This block with <paramref name="count"/> positions, expanded when constant.</summary>
    public abstract Block Materialize(int count);

    /// <summary>A block of one type holding nothing but nulls.</summary>
    public static Block AllNull(EsqlType type, int positionCount) => type switch
    {
        EsqlType.Integer => Block<int>.ConstantNull(type, positionCount),
        EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration => Block<long>.ConstantNull(type, positionCount),
        EsqlType.Double => Block<double>.ConstantNull(type, positionCount),
        EsqlType.Keyword or EsqlType.Text => Block<string>.ConstantNull(type, positionCount),
        EsqlType.Ip => Block<UInt128>.ConstantNull(type, positionCount),
        EsqlType.DatePeriod => Block<DatePeriod>.ConstantNull(type, positionCount),
        _ => Block<bool>.ConstantNull(type, positionCount),
    };

    /// <summary>A constant block: a value in storage types, an <see cref="ImmutableArray{T}"/> of them, or null.</summary>
    public static Block Constant(EsqlType type, object? value, int positionCount)
    {
        if (value is null)
        {
            return AllNull(type, positionCount);
        }
        var builder = BlockBuilder.Create(type, 1);
        builder.AppendBoxed(value);
        var one = builder.Build();
        return one.AsConstant(positionCount);
    }

    /// <summary>Position 0 of this block, standing for <paramref name="positionCount"/> positions.</summary>
    public abstract Block AsConstant(int positionCount);
}

/// <summary>A block whose values are stored as <typeparamref name="T"/>.</summary>
internal sealed class Block<T> : Block
{
    public Block(EsqlType type, int positionCount, T[] values, bool[]? nulls = null, int[]? firstValues = null, bool constant = false, DictionaryEncoding<T>? encoding = null)
        : base(type, positionCount, nulls, firstValues, constant)
    {
        Values = values;
        Encoding = encoding;
    }

    public T[] Values { get; }

    /// <summary>
    /// For columns read from a table: each value's code in a dictionary of the column's distinct values, so that
    /// grouping by the column needs no hashing of its values. Kept through selections, dropped by computations.
    /// </summary>
    public DictionaryEncoding<T>? Encoding { get; }

    /// <summary>This block's values under another type name (text and keyword, long and date).</summary>
    public Block<T> WithType(EsqlType type) => new(type, PositionCount, Values, Nulls, FirstValues, IsConstant, Encoding);

    public static Block<T> ConstantNull(EsqlType type, int positionCount) => new(type, positionCount, new T[1], [true], null, constant: true);

    /// <summary>The single value of a position known to hold exactly one.</summary>
    public T Value(int position) => Values[FirstValueIndex(position)];

    public override object? BoxValue(int valueIndex) => Values[valueIndex];

    public override Block AsConstant(int positionCount) => new Block<T>(Type, positionCount, Values, Nulls, FirstValues, constant: true);

    public override Block Select(ReadOnlySpan<int> positions)
    {
        if (IsConstant)
        {
            return new Block<T>(Type, positions.Length, Values, Nulls, FirstValues, constant: true);
        }
        if (FirstValues is null)
        {
            var values = new T[positions.Length];
            bool[]? nulls = null;
            var source = Values;
            DictionaryEncoding<T>? encoding = null;
            if (Encoding is { } sourceEncoding)
            {
                var codes = new int[positions.Length];
                var sourceCodes = sourceEncoding.Codes;
                for (var i = 0; i < positions.Length; i++)
                {
                    codes[i] = sourceCodes[positions[i]];
                }
                encoding = sourceEncoding with { Codes = codes };
            }
            if (Nulls is null)
            {
                for (var i = 0; i < positions.Length; i++)
                {
                    values[i] = source[positions[i]];
                }
            }
            else
            {
                var sourceNulls = Nulls;
                nulls = new bool[positions.Length];
                for (var i = 0; i < positions.Length; i++)
                {
                    var p = positions[i];
                    values[i] = source[p];
                    nulls[i] = sourceNulls[p];
                }
            }
            return new Block<T>(Type, positions.Length, values, nulls, encoding: encoding);
        }
        var builder = new BlockBuilder<T>(Type, positions.Length);
        foreach (var p in positions)
        {
            builder.CopyPosition(this, p);
        }
        return builder.Build();
    }

    public override Block Materialize(int count)
    {
        if (!IsConstant)
        {
            return this;
        }
        var builder = new BlockBuilder<T>(Type, count);
        for (var i = 0; i < count; i++)
        {
            builder.CopyPosition(this, 0);
        }
        return builder.Build();
    }
}

/// <summary>A column's values as codes into its distinct values; a null position's code is -1.</summary>
internal sealed record DictionaryEncoding<T>(int[] Codes, T[] Dictionary);
