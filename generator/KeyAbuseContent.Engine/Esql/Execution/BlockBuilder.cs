using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Execution;

/// <summary>Builds a block position by position; switches to the multi-value layout only when a position holds several values.</summary>
internal abstract class BlockBuilder
{
    public abstract void AppendNull();

    /// <summary>Appends a value in storage types, an <see cref="ImmutableArray{T}"/> of them (a multi-value), or null.</summary>
    public abstract void AppendBoxed(object? value);

    /// <summary>Appends one position of a block of the same storage type.</summary>
    public abstract void CopyPosition(Block block, int position);

    public abstract Block Build();

    public static BlockBuilder Create(EsqlType type, int capacity) => type switch
    {
        EsqlType.Integer => new BlockBuilder<int>(type, capacity),
        EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration => new BlockBuilder<long>(type, capacity),
        EsqlType.Double => new BlockBuilder<double>(type, capacity),
        EsqlType.Keyword or EsqlType.Text => new BlockBuilder<string>(type, capacity),
        EsqlType.Ip => new BlockBuilder<UInt128>(type, capacity),
        EsqlType.DatePeriod => new BlockBuilder<DatePeriod>(type, capacity),
        _ => new BlockBuilder<bool>(type, capacity),
    };
}

/// <summary>A builder of <see cref="Block{T}"/>.</summary>
internal sealed class BlockBuilder<T>(EsqlType type, int capacity) : BlockBuilder
{
    private T[] values = new T[Math.Max(capacity, 1)];
    private int valueCount;
    private int positionCount;
    private bool[]? nulls;
    private int[]? firstValues;

    public EsqlType Type => type;

    public int PositionCount => positionCount;

    public override void AppendNull()
    {
        if (firstValues is not null)
        {
            EnsurePositions();
            positionCount++;
            firstValues[positionCount] = valueCount;
            return;
        }
        EnsureValues(1);
        nulls ??= new bool[values.Length];
        if (nulls.Length < values.Length)
        {
            Array.Resize(ref nulls, values.Length);
        }
        nulls[positionCount] = true;
        values[valueCount++] = default!;
        positionCount++;
    }

    public void Append(T value)
    {
        EnsureValues(1);
        values[valueCount++] = value;
        positionCount++;
        if (firstValues is not null)
        {
            EnsurePositions();
            firstValues[positionCount] = valueCount;
        }
    }

    /// <summary>Appends a position of several values (one value stays single; none is null).</summary>
    public void AppendMany(ReadOnlySpan<T> many)
    {
        if (many.Length == 0)
        {
            AppendNull();
            return;
        }
        if (many.Length == 1)
        {
            Append(many[0]);
            return;
        }
        SwitchToMultiValues();
        EnsureValues(many.Length);
        many.CopyTo(values.AsSpan(valueCount));
        valueCount += many.Length;
        positionCount++;
        EnsurePositions();
        firstValues![positionCount] = valueCount;
    }

    public override void AppendBoxed(object? value)
    {
        switch (value)
        {
            case null:
                AppendNull();
                break;
            case ImmutableArray<object?> many:
                {
                    var typed = new T[many.Length];
                    var n = 0;
                    foreach (var item in many)
                    {
                        if (item is not null)
                        {
                            typed[n++] = (T)item;
                        }
                    }
                    AppendMany(typed.AsSpan(0, n));
                    break;
                }
            default:
                Append((T)value);
                break;
        }
    }

    public override void CopyPosition(Block block, int position)
    {
        var source = (Block<T>)block;
        var count = source.ValueCount(position);
        if (count == 0)
        {
            AppendNull();
        }
        else if (count == 1)
        {
            Append(source.Values[source.FirstValueIndex(position)]);
        }
        else
        {
            AppendMany(source.Values.AsSpan(source.FirstValueIndex(position), count));
        }
    }

    public override Block Build() => BuildTyped();

    public Block<T> BuildTyped()
    {
        if (type is EsqlType.Null or EsqlType.Unsupported)
        {
            return Block<T>.ConstantNull(type, positionCount);
        }
        if (firstValues is not null)
        {
            return new Block<T>(type, positionCount, values, null, firstValues);
        }
        bool[]? nullFlags = null;
        if (nulls is not null)
        {
            for (var i = 0; i < positionCount; i++)
            {
                if (i < nulls.Length && nulls[i])
                {
                    if (nulls.Length < positionCount)
                    {
                        Array.Resize(ref nulls, positionCount);
                    }
                    nullFlags = nulls;
                    break;
                }
            }
        }
        return new Block<T>(type, positionCount, values, nullFlags);
    }

    private void SwitchToMultiValues()
    {
        if (firstValues is not null)
        {
            return;
        }
        // Until now position p held values[p]; compact away the null slots and record each position's start.
        firstValues = new int[Math.Max(values.Length, positionCount) + 2];
        var write = 0;
        for (var p = 0; p < positionCount; p++)
        {
            firstValues[p] = write;
            if (nulls is null || p >= nulls.Length || !nulls[p])
            {
                values[write++] = values[p];
            }
        }
        firstValues[positionCount] = write;
        valueCount = write;
        nulls = null;
    }

    private void EnsureValues(int more)
    {
        if (valueCount + more > values.Length)
        {
            Array.Resize(ref values, Math.Max(values.Length * 2, valueCount + more));
        }
    }

    private void EnsurePositions()
    {
        if (positionCount + 2 > firstValues!.Length)
        {
            Array.Resize(ref firstValues, Math.Max(firstValues.Length * 2, positionCount + 2));
        }
    }
}
