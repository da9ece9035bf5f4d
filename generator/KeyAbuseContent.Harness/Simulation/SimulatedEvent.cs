using System.Text.Encodings.Web;
using System.Text.Json;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>
/// One generated request, held as numbers and indices into a <see cref="LiteralTable"/> so that generating
/// a million of them allocates no strings; <see cref="EventLineWriter"/> turns it into a JSON line.
/// A literal index of -1 means the field is absent.
/// </summary>
internal struct SimulatedEvent
{
    /// <summary>Unix milliseconds.</summary>
    public long Time;

    public int KeyId;
    public int Service;
    public int Env;
    public int UserAgent;
    public int Provider;
    public int Model;
    public int Operation;

    /// <summary>IPv4 address, and the index of its network in <see cref="AddressPlan.Networks"/>.</summary>
    public uint ClientIp;

    public int Network;
    public long InputTokens;
    public long OutputTokens;
    public int Status;

    /// <summary>Latency in tenths of a millisecond.</summary>
    public long LatencyTenths;

    /// <summary>Cost in units of 1e-7 USD.</summary>
    public long CostUnits;

    public ulong RequestId;

    /// <summary>Who made it: a key's stream for benign traffic, an attack's for injected traffic; breaks time ties.</summary>
    public int Stream;

    /// <summary>The order in which its stream made it; breaks time ties.</summary>
    public int Sequence;
}

/// <summary>Orders events by time, then stream and sequence, so that the order never depends on the sort algorithm.</summary>
internal sealed class SimulatedEventOrder : IComparer<SimulatedEvent>
{
    public static readonly SimulatedEventOrder Instance = new();

    public int Compare(SimulatedEvent x, SimulatedEvent y)
    {
        var c = x.Time.CompareTo(y.Time);
        if (c != 0)
        {
            return c;
        }
        c = x.Stream.CompareTo(y.Stream);
        return c != 0 ? c : x.Sequence.CompareTo(y.Sequence);
    }
}

/// <summary>Interned strings, each kept as its JSON-encoded UTF-8 text with the quotes, ready to copy into a line.</summary>
public sealed class LiteralTable
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<byte[]> _encoded = [];
    private readonly List<string> _text = [];

    /// <summary>The index of a string, adding it the first time.</summary>
    public int Intern(string value)
    {
        if (_index.TryGetValue(value, out var i))
        {
            return i;
        }
        var encoded = JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes;
        var quoted = new byte[encoded.Length + 2];
        quoted[0] = (byte)'"';
        encoded.CopyTo(quoted.AsSpan(1));
        quoted[^1] = (byte)'"';
        i = _encoded.Count;
        _encoded.Add(quoted);
        _text.Add(value);
        _index.Add(value, i);
        return i;
    }

    /// <summary>The quoted JSON text of an index.</summary>
    public ReadOnlySpan<byte> Json(int index) => _encoded[index];

    /// <summary>The string of an index.</summary>
    public string Text(int index) => _text[index];
}
