using System.Text.Json.Nodes;

namespace KeyAbuseContent.Engine.Kql.Storage;

/// <summary>Builds a column value by value, from interchange-form values; the generic path of row-wise functions.</summary>
internal abstract class ColumnBuilder
{
    public abstract int Count { get; }

    public static ColumnBuilder Create(KqlType type, int capacity) => type switch
    {
        KqlType.Bool => new ValueBuilder<bool>(type, capacity, v => Scalars.ToBool(v)),
        KqlType.Int => new ValueBuilder<int>(type, capacity, v => Scalars.ToInt(v)),
        KqlType.Long => new ValueBuilder<long>(type, capacity, v => Scalars.ToLong(v)),
        KqlType.Real => new ValueBuilder<double>(type, capacity, v => Scalars.ToReal(v)),
        KqlType.DateTime => new ValueBuilder<long>(type, capacity, v => Scalars.ToDateTime(v)?.Ticks),
        KqlType.TimeSpan => new ValueBuilder<long>(type, capacity, v => Scalars.ToTimeSpan(v)?.Ticks),
        KqlType.Guid => new ValueBuilder<Guid>(type, capacity, v => Scalars.ToGuid(v)),
        KqlType.String => new StringBuilderColumn(capacity),
        KqlType.Dynamic => new DynamicBuilder(capacity),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>
    /// Adds a value, converted to the column's type; a value that does not convert is stored as null ("" for
    /// strings) and the call returns false.
    /// </summary>
    public abstract bool Add(object? value);

    public abstract Column Build();

    private sealed class ValueBuilder<T> : ColumnBuilder
        where T : unmanaged
    {
        private readonly KqlType _type;
        private readonly Func<object?, T?> _convert;
        private T[] _values;
        private bool[]? _nulls;
        private int _count;

        public ValueBuilder(KqlType type, int capacity, Func<object?, T?> convert)
        {
            _type = type;
            _convert = convert;
            _values = new T[Math.Max(capacity, 4)];
        }

        public override int Count => _count;

        public override bool Add(object? value)
        {
            if (_count == _values.Length)
            {
                Array.Resize(ref _values, _values.Length * 2);
                if (_nulls is not null)
                {
                    Array.Resize(ref _nulls, _values.Length);
                }
            }
            if (_convert(value) is { } v)
            {
                _values[_count++] = v;
                return true;
            }
            _nulls ??= new bool[_values.Length];
            _nulls[_count++] = true;
            return value is null;
        }

        public override Column Build() => new ValueColumn<T>(_type, _values, _nulls, _count);
    }

    private sealed class StringBuilderColumn : ColumnBuilder
    {
        private string[] _values;
        private int _count;

        public StringBuilderColumn(int capacity)
        {
            _values = new string[Math.Max(capacity, 4)];
        }

        public override int Count => _count;

        public override bool Add(object? value)
        {
            if (_count == _values.Length)
            {
                Array.Resize(ref _values, _values.Length * 2);
            }
            _values[_count++] = Scalars.ToKqlString(value);
            return true;
        }

        public override Column Build()
        {
            // The tail beyond Count is never read, but keep it non-null for safety.
            for (var i = _count; i < _values.Length; i++)
            {
                _values[i] = "";
            }
            return new StringColumn(_values, _count);
        }
    }

    private sealed class DynamicBuilder : ColumnBuilder
    {
        private JsonNode?[] _values;
        private int _count;

        public DynamicBuilder(int capacity)
        {
            _values = new JsonNode?[Math.Max(capacity, 4)];
        }

        public override int Count => _count;

        public override bool Add(object? value)
        {
            if (_count == _values.Length)
            {
                Array.Resize(ref _values, _values.Length * 2);
            }
            _values[_count++] = Scalars.ToDynamic(value);
            return true;
        }

        public override Column Build() => new DynamicColumn(_values, _count);
    }
}
