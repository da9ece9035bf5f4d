namespace KeyAbuseContent.Engine.Esql.Aggregation;

/// <summary>
/// An open-addressing map from long to a dense int id (0, 1, 2, ... in order of first insertion), the hot
/// structure of grouping; several times faster than a <see cref="Dictionary{TKey, TValue}"/> for this use.
/// </summary>
internal sealed class LongIntHashMap
{
    private long[] keys;
    private int[] ids;
    private int mask;
    private int shift;

    public LongIntHashMap(int expected = 16)
    {
        var capacity = 16;
        while (capacity < expected * 2)
        {
            capacity <<= 1;
        }
        Allocate(capacity);
    }

    public int Count { get; private set; }

    /// <summary>The id of <paramref name="key"/>, added with the next id when absent.</summary>
    public int GetOrAdd(long key)
    {
        var slot = Slot(key);
        while (true)
        {
            var id = ids[slot];
            if (id < 0)
            {
                ids[slot] = Count;
                keys[slot] = key;
                Count++;
                if (Count * 2 > ids.Length)
                {
                    Grow();
                }
                return Count - 1;
            }
            if (keys[slot] == key)
            {
                return id;
            }
            slot = (slot + 1) & mask;
        }
    }

    private int Slot(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> shift);

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(keys), nameof(ids))]
    private void Allocate(int capacity)
    {
        keys = new long[capacity];
        ids = new int[capacity];
        Array.Fill(ids, -1);
        mask = capacity - 1;
        shift = 64 - System.Numerics.BitOperations.Log2((uint)capacity);
    }

    private void Grow()
    {
        var oldKeys = keys;
        var oldIds = ids;
        Allocate(oldIds.Length * 2);
        for (var i = 0; i < oldIds.Length; i++)
        {
            if (oldIds[i] < 0)
            {
                continue;
            }
            var slot = Slot(oldKeys[i]);
            while (ids[slot] >= 0)
            {
                slot = (slot + 1) & mask;
            }
            ids[slot] = oldIds[i];
            keys[slot] = oldKeys[i];
        }
    }
}
