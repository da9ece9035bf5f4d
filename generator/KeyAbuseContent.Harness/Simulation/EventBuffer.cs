namespace KeyAbuseContent.Harness.Simulation;

/// <summary>A growable array of events that hands out slots by reference, so events are filled in place.</summary>
internal sealed class EventBuffer
{
    private SimulatedEvent[] _items = new SimulatedEvent[256];

    public int Count { get; private set; }

    public Span<SimulatedEvent> Items => _items.AsSpan(0, Count);

    /// <summary>A new, zeroed slot at the end.</summary>
    public ref SimulatedEvent Add()
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        ref var slot = ref _items[Count++];
        slot = default;
        return ref slot;
    }

    public void Add(in SimulatedEvent e) => Add() = e;

    public void Clear() => Count = 0;

    /// <summary>Sorts the events by <see cref="SimulatedEventOrder"/>.</summary>
    public void Sort() => Items.Sort(SimulatedEventOrder.Instance);
}
