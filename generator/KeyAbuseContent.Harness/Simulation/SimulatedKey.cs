using System.Collections.Immutable;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>A place a key's traffic comes from: a network, its local clock, its share, its egress addresses.</summary>
public sealed record KeySite(SimulatedNetwork Network, int NetworkIndex, LocalClock Clock, double Weight, ImmutableArray<uint> Egress);

/// <summary>What the inventory says about a key (DESIGN.md's inventory shape).</summary>
public sealed class InventoryRecord
{
    public DateTime Created { get; set; }
    public DateTime? Expires { get; set; }
    public DateTime? Rotated { get; set; }
    public ImmutableArray<string> Countries { get; set; } = [];
    public ImmutableArray<string> Cidrs { get; set; } = [];
    public long QuotaRpm { get; set; }
    public long QuotaTpm { get; set; }
    public long TokensPerDay { get; set; }
    public long MonthlyBudgetUsd { get; set; }
    public SortedDictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);

    /// <summary>The provider's id of the key when it differs from the id events carry: a LiteLLM virtual key's token hash.</summary>
    public string? ProviderKeyId { get; set; }
}

/// <summary>
/// One key and its benign traffic, generated a minute at a time from the key's own random stream (so the
/// attacks chosen never change benign traffic): daily and weekly seasonality with noise, a nightly batch,
/// growth, a launch, a model migration, retry storms of 429s, and for a development key office, home and
/// travel.
/// </summary>
public sealed class SimulatedKey
{
    // Weekday level of business traffic by local hour, interpolated between hours: a night trough, a morning
    // ramp, a lunch dip and an evening tail.
    private static readonly double[] DayShape =
    [
        0.10, 0.08, 0.07, 0.07, 0.08, 0.12, 0.22, 0.40, 0.70, 0.92, 1.00, 1.00,
        0.86, 0.95, 1.00, 0.97, 0.90, 0.75, 0.55, 0.40, 0.30, 0.22, 0.16, 0.12, 0.10,
    ];

    // A developer's key: office hours only.
    private static readonly double[] DeveloperShape =
    [
        0, 0, 0, 0, 0, 0, 0, 0.02, 0.2, 0.7, 1, 1,
        0.5, 0.9, 1, 1, 0.8, 0.5, 0.2, 0.08, 0.03, 0.01, 0, 0, 0,
    ];

    private const long MinuteMs = 60_000;
    private const long DayMs = 86_400_000;

    public SimulatedKey(int index, string id, ServiceSpec service, string env, bool development, ImmutableArray<KeySite> sites, double peak, ulong seed)
    {
        Index = index;
        Id = id;
        Service = service;
        Env = env;
        IsDevelopment = development;
        Sites = sites;
        Peak = peak;
        Random = new SimulationRandom(seed, 1000 + (ulong)index);
    }

    public int Index { get; }
    public string Id { get; }
    public ServiceSpec Service { get; }
    public string Env { get; }
    public bool IsDevelopment { get; }
    public ImmutableArray<KeySite> Sites { get; }

    /// <summary>Business-hours requests a minute.</summary>
    public double Peak { get; }

    /// <summary>First and last-plus-one millisecond of use (a rotation bounds them); null for the whole run.</summary>
    public long? FromMs { get; set; }

    public long? UntilMs { get; set; }

    /// <summary>When the model migration starts; null when the key does not migrate.</summary>
    public long? MigrationMs { get; set; }

    /// <summary>When the launch starts; null without one.</summary>
    public long? LaunchMs { get; set; }

    public InventoryRecord Inventory { get; } = new();

    /// <summary>Retry storms: short windows of client retries answered mostly with 429.</summary>
    public List<(long Start, long End)> Storms { get; } = [];

    /// <summary>Nightly batch windows, one a day, when the service runs one.</summary>
    public (long Start, long End, double Multiplier)[]? Batches { get; private set; }

    /// <summary>The networks this key uses when nobody has stolen it (countries and ASNs attacks avoid).</summary>
    public IEnumerable<SimulatedNetwork> OwnNetworks => Sites.Select(s => s.Network).Concat(_developerPlaces.Select(d => d.Network));

    internal SimulationRandom Random { get; }

    private double[] _dayNoise = [];
    private double[] _hourNoise = [];
    private (SimulatedNetwork Network, int NetworkIndex, LocalClock Clock, uint[] Addresses)[] _developerDays = [];
    private readonly List<(SimulatedNetwork Network, int NetworkIndex)> _developerPlaces = [];
    private Literals _literals;
    private int _sequence;
    private ulong _seed;

    /// <summary>The literal indices of the key's strings.</summary>
    private struct Literals
    {
        public int Key, Service, Env, Provider, UserAgent, Curl, Operation;
        public int[] Models;
    }

    /// <summary>Whether the key is in use at a time.</summary>
    public bool ActiveAt(long ms) => (FromMs is not { } from || ms >= from) && (UntilMs is not { } until || ms < until);

    /// <summary>Draws the key's noise, batch windows, retry storms and (for a development key) where its owner works each day.</summary>
    internal void Prepare(long startMs, int days, ulong seed, LiteralTable literals, (int FirstDay, int Days)? travel)
    {
        _seed = seed;
        var r = Random;
        _dayNoise = new double[days];
        for (var d = 0; d < days; d++)
        {
            _dayNoise[d] = 0.85 + (0.3 * r.NextDouble());
        }
        _hourNoise = new double[days * 24];
        for (var h = 0; h < _hourNoise.Length; h++)
        {
            _hourNoise[h] = Math.Exp(0.1 * r.NextNormal());
        }
        if (Service.NightlyBatch && !IsDevelopment)
        {
            Batches = new (long, long, double)[days];
            for (var d = 0; d < days; d++)
            {
                var s = startMs + (d * DayMs) + (60 * MinuteMs) + (r.Between(-15, 15) * MinuteMs);
                Batches[d] = (s, s + ((90 + r.Between(-5, 5)) * MinuteMs), 8 + (7 * r.NextDouble()));
            }
        }
        if (!IsDevelopment)
        {
            PrepareStorms(startMs, days);
        }
        else
        {
            PrepareDeveloper(startMs, days, travel);
        }
        _literals = new Literals
        {
            Key = literals.Intern(Id),
            Service = literals.Intern(Service.Name),
            Env = literals.Intern(Env),
            Provider = literals.Intern(Service.Provider),
            UserAgent = literals.Intern(Service.UserAgent),
            Curl = literals.Intern("curl/8.7.1"),
            Operation = literals.Intern(Service.Operations[0]),
            Models = [.. Service.Models.Select(literals.Intern)],
        };
    }

    // About one storm every three weekdays, in business hours: a dependency slows down, clients retry, the
    // provider answers 429 for a few minutes.
    private void PrepareStorms(long startMs, int days)
    {
        var r = Random;
        var clock = Sites[0].Clock;
        for (var d = 0; d < days; d++)
        {
            var dayStart = DateTime.UnixEpoch.AddMilliseconds(startMs + (d * DayMs));
            var draw = r.NextDouble();
            var minute = r.Between(9 * 60, (17 * 60) - 1);
            var length = r.Between(2, 6);
            if (dayStart.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday || draw >= 0.35)
            {
                continue;
            }
            var start = clock.ToUtc(dayStart.AddMinutes(minute));
            var ms = (long)(start - DateTime.UnixEpoch).TotalMilliseconds;
            Storms.Add((ms, ms + (length * MinuteMs)));
        }
    }

    private void PrepareDeveloper(long startMs, int days, (int FirstDay, int Days)? travel)
    {
        var r = Random;
        var office = AddressPlan.ByName(Service.Office);
        var home = AddressPlan.ByName(Service.Home);
        var abroad = AddressPlan.ByName(office.Country == "US" ? "softbank-travel" : "bt-travel");
        var abroadClock = office.Country == "US" ? LocalClock.Tokyo : LocalClock.Dublin;
        var officePool = Enumerable.Range(0, 4).Select(_ => office.AddressIn(r)).ToArray();
        var homeAddress = home.AddressIn(r);
        var hotelPool = Enumerable.Range(0, 3).Select(_ => abroad.AddressIn(r)).ToArray();
        _developerPlaces.Add((office, AddressPlan.IndexOf(office)));
        _developerPlaces.Add((home, AddressPlan.IndexOf(home)));
        if (travel is not null)
        {
            _developerPlaces.Add((abroad, AddressPlan.IndexOf(abroad)));
        }
        _developerDays = new (SimulatedNetwork, int, LocalClock, uint[])[days];
        for (var d = 0; d < days; d++)
        {
            var date = DateTime.UnixEpoch.AddMilliseconds(startMs + (d * DayMs));
            var fromHome = r.NextDouble() < 0.3 || date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
            var count = r.Between(1, 2);
            if (travel is { } t && d >= t.FirstDay && d < t.FirstDay + t.Days)
            {
                _developerDays[d] = (abroad, AddressPlan.IndexOf(abroad), abroadClock, [.. Enumerable.Range(0, count).Select(_ => r.Pick(hotelPool))]);
            }
            else if (fromHome)
            {
                _developerDays[d] = (home, AddressPlan.IndexOf(home), Sites[0].Clock, [homeAddress]);
            }
            else
            {
                _developerDays[d] = (office, AddressPlan.IndexOf(office), Sites[0].Clock, [.. Enumerable.Range(0, count).Select(_ => r.Pick(officePool))]);
            }
        }
    }

    private static double Shape(double[] table, double hour)
    {
        var i = (int)hour;
        var f = hour - i;
        return (table[i] * (1 - f)) + (table[i + 1] * f);
    }

    private static bool Weekend(DateTime local) => local.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;

    /// <summary>The expected requests a minute from one site at a time, without noise.</summary>
    public double BaseRate(int site, long ms, int day)
    {
        if (Batches is { } batches && day < batches.Length && ms >= batches[day].Start && ms < batches[day].End)
        {
            return Peak * batches[day].Multiplier;
        }
        var utc = DateTime.UnixEpoch.AddMilliseconds(ms);
        double rate;
        if (IsDevelopment)
        {
            var local = _developerDays[day].Clock.ToLocal(utc);
            rate = Peak * Shape(DeveloperShape, local.Hour + (local.Minute / 60.0)) * (Weekend(local) ? 0.08 : 1);
        }
        else
        {
            var s = Sites[site];
            var local = s.Clock.ToLocal(utc);
            rate = Peak * s.Weight * Shape(DayShape, local.Hour + (local.Minute / 60.0)) * (Weekend(local) ? Service.Weekend : 1);
        }
        if (Service.DailyGrowth != 1)
        {
            rate *= Math.Pow(Service.DailyGrowth, day);
        }
        if (LaunchMs is { } launch && ms >= launch)
        {
            // An hour's ramp, then the new level for good.
            rate *= 1 + ((Service.Launch - 1) * Math.Min(1, (ms - launch) / (60.0 * MinuteMs)));
        }
        return rate;
    }

    /// <summary>The expected requests a minute over every site, without noise.</summary>
    public double ExpectedRate(long ms, int day)
    {
        var sum = 0.0;
        var sites = IsDevelopment ? 1 : Sites.Length;
        for (var s = 0; s < sites; s++)
        {
            sum += BaseRate(s, ms, day);
        }
        return sum;
    }

    private bool InStorm(long ms)
    {
        foreach (var (start, end) in Storms)
        {
            if (ms >= start && ms < end)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Appends the key's requests of the minute starting at <paramref name="minuteMs"/>, minute <paramref name="minute"/> of the run.</summary>
    internal void AppendMinute(EventBuffer into, long minuteMs, int minute)
    {
        if (!ActiveAt(minuteMs))
        {
            return;
        }
        var day = minute / 1440;
        var noise = _dayNoise[day] * _hourNoise[minute / 60];
        var storm = Storms.Count > 0 && InStorm(minuteMs);
        var sites = IsDevelopment ? 1 : Sites.Length;
        for (var s = 0; s < sites; s++)
        {
            var n = Random.Poisson(BaseRate(s, minuteMs, day) * noise * (storm ? 3 : 1));
            for (var i = 0; i < n; i++)
            {
                Fill(ref into.Add(), minuteMs + Random.Next(60_000), s, day, storm);
            }
        }
    }

    private void Fill(ref SimulatedEvent e, long ms, int site, int day, bool storm)
    {
        var r = Random;
        e.Time = ms;
        e.KeyId = _literals.Key;
        e.Service = _literals.Service;
        e.Env = _literals.Env;
        e.Provider = _literals.Provider;
        e.UserAgent = _literals.UserAgent;
        e.Operation = _literals.Operation;
        e.Stream = 1 + Index;
        e.Sequence = _sequence;
        e.RequestId = SimulationRandom.Mix(_seed, ((ulong)e.Stream << 40) | (uint)_sequence++);
        if (IsDevelopment)
        {
            var place = _developerDays[day];
            e.Network = place.NetworkIndex;
            e.ClientIp = place.Addresses[r.Next(place.Addresses.Length)];
            if (r.Next(10) == 0)
            {
                e.UserAgent = _literals.Curl;
            }
        }
        else
        {
            var s = Sites[site];
            e.Network = s.NetworkIndex;
            e.ClientIp = s.Egress[r.Next(s.Egress.Length)];
        }
        var model = PickModel(ms);
        e.Model = _literals.Models[model];
        var inBatch = Batches is { } b && ms >= b[day].Start && ms < b[day].End;
        var u = r.NextDouble();
        e.Status = (storm && u < 0.6) || (inBatch && u < 0.03) ? 429 : u > 0.9996 ? 500 : u > 0.9994 ? 401 : 200;
        if (e.Status != 200)
        {
            e.LatencyTenths = (long)Math.Round((15 + (40 * r.NextDouble())) * 10);
            return;
        }
        e.InputTokens = Math.Clamp((long)r.LogNormal(Service.InputMedian, Service.InputSigma), 4, 120_000);
        var name = Service.Models[model];
        if (Service.EmbeddingsOnly)
        {
            e.LatencyTenths = (long)Math.Round(r.LogNormal(70, 0.3) * 10);
        }
        else
        {
            e.OutputTokens = Math.Clamp((long)r.LogNormal(Service.OutputMedian, Service.OutputSigma), 1, 16_000);
            e.LatencyTenths = (long)Math.Round((250 + (e.OutputTokens * ModelCatalog.MsPerToken(name) * r.LogNormal(1, 0.2))) * 10);
        }
        e.CostUnits = ModelCatalog.CostUnits(name, e.InputTokens, e.OutputTokens);
    }

    // Mostly the main model, some on the second; a migrating service moves from the first to the second as
    // a canary (5% the first day, 25% the next two, then all), keeping a share on its third.
    private int PickModel(long ms)
    {
        var models = Service.Models.Length;
        if (models == 1)
        {
            return 0;
        }
        var u = Random.NextDouble();
        if (MigrationMs is { } migration)
        {
            if (u < 0.15 && models > 2)
            {
                return 2;
            }
            var share = ms < migration ? 0 : ms - migration < DayMs ? 0.05 : ms - migration < 3 * DayMs ? 0.25 : 1;
            return Random.NextDouble() < share ? 1 : 0;
        }
        return u < 0.15 ? 1 : 0;
    }
}
