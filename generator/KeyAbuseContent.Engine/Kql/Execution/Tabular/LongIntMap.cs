using System.Numerics;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>
/// An open-addressing hash map from 64-bit keys to dense ints, for key encoding and grouping. Keys are mixed
/// before probing: packed pairs such as (group &lt;&lt; 32 | code) would all collide under long's own hash.
/// </summary>
internal sealed class LongIntMap
{
    private long[] _keys;
    private int[] _values;
    private bool[] _used;
    private int _mask;

    public LongIntMap(int capacity = 16)
    {
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity * 2));
        _keys = new long[size];
        _values = new int[size];
        _used = new bool[size];
        _mask = size - 1;
    }

    public int Count { get; private set; }

    /// <summary>The value of <paramref name="key"/>, adding it with the next dense value (its count) when new.</summary>
    public int GetOrAdd(long key) => GetOrAdd(key, Count);

    /// <summary>The value of <paramref name="key"/>, adding it with <paramref name="valueIfNew"/> when new.</summary>
    public int GetOrAdd(long key, int valueIfNew)
    {
        var slot = Slot(key);
        while (_used[slot])
        {
            if (_keys[slot] == key)
            {
                return _values[slot];
            }
            slot = (slot + 1) & _mask;
        }
        var value = valueIfNew;
        _used[slot] = true;
        _keys[slot] = key;
        _values[slot] = value;
        if (++Count * 2 > _keys.Length)
        {
            Grow();
        }
        return value;
    }

    /// <summary>Adds <paramref name="key"/>; false when it was there already.</summary>
    public bool Add(long key)
    {
        var before = Count;
        GetOrAdd(key);
        return Count > before;
    }

    private int Slot(long key)
    {
        var mixed = (ulong)key * 0x9E3779B97F4A7C15UL;
        return (int)(mixed >> 32 ^ mixed) & _mask;
    }

    private void Grow()
    {
        var (keys, values, used) = (_keys, _values, _used);
        _keys = new long[keys.Length * 2];
        _values = new int[keys.Length * 2];
        _used = new bool[keys.Length * 2];
        _mask = _keys.Length - 1;
        for (var i = 0; i < keys.Length; i++)
        {
            if (!used[i])
            {
                continue;
            }
            var slot = Slot(keys[i]);
            while (_used[slot])
            {
                slot = (slot + 1) & _mask;
            }
            _used[slot] = true;
            _keys[slot] = keys[i];
            _values[slot] = values[i];
        }
    }
}
