using System.Buffers.Text;
using System.Text;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>
/// Writes events as DESIGN.md's JSON lines straight into a byte buffer: field names and literals are
/// pre-encoded, numbers are formatted into the buffer, the date part of the time is cached per day.
/// </summary>
internal sealed class EventLineWriter(LiteralTable literals)
{
    /// <summary>The most bytes one line can take beyond its literals.</summary>
    private const int FixedPart = 512;

    private readonly byte[][] _countries = [.. AddressPlan.Networks.Select(n => Encoding.UTF8.GetBytes("\"" + n.Country + "\""))];
    private readonly long[] _asns = [.. AddressPlan.Networks.Select(n => n.Asn)];
    private readonly byte[] _datePrefix = new byte[11];
    private long _day = long.MinValue;

    private byte[] _buffer = new byte[1 << 20];

    /// <summary>Bytes written and not yet taken.</summary>
    public int Length { get; private set; }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    /// <summary>Forgets the written bytes (after they were copied out).</summary>
    public void Clear() => Length = 0;

    /// <summary>The request id text of an id number: <c>req_</c> and 16 hex digits.</summary>
    public static string RequestId(ulong id) => "req_" + id.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Appends one event and its newline.</summary>
    public void Write(in SimulatedEvent e)
    {
        var need = FixedPart + literals.Json(e.KeyId).Length + Len(e.Service) + Len(e.Env) + Len(e.UserAgent) + Len(e.Provider) + Len(e.Model) + Len(e.Operation);
        if (Length + need > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + need));
        }
        var span = _buffer.AsSpan();
        var p = Length;
        Put(span, ref p, "{\"time\":\""u8);
        Time(span, ref p, e.Time);
        Put(span, ref p, "\",\"key_id\":"u8);
        Put(span, ref p, literals.Json(e.KeyId));
        Field(span, ref p, ",\"service\":"u8, e.Service);
        Field(span, ref p, ",\"env\":"u8, e.Env);
        Put(span, ref p, ",\"client_ip\":\""u8);
        Address(span, ref p, e.ClientIp);
        Put(span, ref p, "\",\"country\":"u8);
        Put(span, ref p, _countries[e.Network]);
        Put(span, ref p, ",\"asn\":"u8);
        Number(span, ref p, _asns[e.Network]);
        Field(span, ref p, ",\"user_agent\":"u8, e.UserAgent);
        Field(span, ref p, ",\"provider\":"u8, e.Provider);
        Field(span, ref p, ",\"model\":"u8, e.Model);
        Field(span, ref p, ",\"operation\":"u8, e.Operation);
        Put(span, ref p, ",\"input_tokens\":"u8);
        Number(span, ref p, e.InputTokens);
        Put(span, ref p, ",\"output_tokens\":"u8);
        Number(span, ref p, e.OutputTokens);
        Put(span, ref p, ",\"status\":"u8);
        Number(span, ref p, e.Status);
        Put(span, ref p, ",\"latency_ms\":"u8);
        Decimal(span, ref p, e.LatencyTenths, 1);
        Put(span, ref p, ",\"cost_usd\":"u8);
        Decimal(span, ref p, e.CostUnits, 7);
        Put(span, ref p, ",\"request_id\":\"req_"u8);
        Utf8Formatter.TryFormat(e.RequestId, span[p..], out var n, new System.Buffers.StandardFormat('x', 16));
        p += n;
        Put(span, ref p, "\"}\n"u8);
        Length = p;
    }

    private int Len(int literal) => literal < 0 ? 0 : literals.Json(literal).Length;

    private void Field(Span<byte> span, ref int p, ReadOnlySpan<byte> name, int literal)
    {
        if (literal >= 0)
        {
            Put(span, ref p, name);
            Put(span, ref p, literals.Json(literal));
        }
    }

    private static void Put(Span<byte> span, ref int p, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[p..]);
        p += bytes.Length;
    }

    private static void Number(Span<byte> span, ref int p, long value)
    {
        Utf8Formatter.TryFormat(value, span[p..], out var n);
        p += n;
    }

    /// <summary>A non-negative fixed-point number of <paramref name="scale"/> decimals, trailing zeros dropped.</summary>
    private static void Decimal(Span<byte> span, ref int p, long units, int scale)
    {
        long factor = 1;
        for (var i = 0; i < scale; i++)
        {
            factor *= 10;
        }
        Number(span, ref p, units / factor);
        var fraction = units % factor;
        if (fraction == 0)
        {
            return;
        }
        span[p++] = (byte)'.';
        var digits = scale;
        while (fraction % 10 == 0)
        {
            fraction /= 10;
            digits--;
        }
        for (var i = digits - 1; i >= 0; i--)
        {
            span[p + i] = (byte)('0' + (fraction % 10));
            fraction /= 10;
        }
        p += digits;
    }

    private static void Address(Span<byte> span, ref int p, uint address)
    {
        Number(span, ref p, address >> 24);
        span[p++] = (byte)'.';
        Number(span, ref p, (address >> 16) & 0xFF);
        span[p++] = (byte)'.';
        Number(span, ref p, (address >> 8) & 0xFF);
        span[p++] = (byte)'.';
        Number(span, ref p, address & 0xFF);
    }

    /// <summary>RFC 3339 with milliseconds, in UTC.</summary>
    private void Time(Span<byte> span, ref int p, long unixMs)
    {
        var day = Math.DivRem(unixMs, 86_400_000L, out var ms);
        if (day != _day)
        {
            _day = day;
            var date = DateTime.UnixEpoch.AddDays(day);
            Encoding.ASCII.GetBytes(date.ToString("yyyy-MM-dd'T'", System.Globalization.CultureInfo.InvariantCulture), _datePrefix);
        }
        Put(span, ref p, _datePrefix);
        Two(span, ref p, (int)(ms / 3_600_000));
        span[p++] = (byte)':';
        Two(span, ref p, (int)(ms / 60_000 % 60));
        span[p++] = (byte)':';
        Two(span, ref p, (int)(ms / 1000 % 60));
        span[p++] = (byte)'.';
        var milli = (int)(ms % 1000);
        span[p++] = (byte)('0' + (milli / 100));
        span[p++] = (byte)('0' + (milli / 10 % 10));
        span[p++] = (byte)('0' + (milli % 10));
        span[p++] = (byte)'Z';
    }

    private static void Two(Span<byte> span, ref int p, int value)
    {
        span[p++] = (byte)('0' + (value / 10));
        span[p++] = (byte)('0' + (value % 10));
    }

    /// <summary>The RFC 3339 text of a Unix millisecond time, as lines and labels print it.</summary>
    public static string Iso(long unixMs) =>
        DateTime.UnixEpoch.AddMilliseconds(unixMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
