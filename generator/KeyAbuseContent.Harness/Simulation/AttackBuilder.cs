using System.Collections.Immutable;
using System.Globalization;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>
/// Builds the events of one attack on one key from the attack's random stream. Attackers come from
/// networks in neither a country nor an AS the key uses (except where the scenario says otherwise), with
/// attack tooling's user agents.
/// </summary>
internal sealed class AttackBuilder
{
    private const long MinuteMs = 60_000;

    private static readonly ImmutableArray<string> AttackerAgents =
    [
        "python-requests/2.32.3", "curl/8.5.0", "OpenAI/Python 0.28.1", "Python/3.11 aiohttp/3.9.5", "Go-http-client/2.0",
    ];

    private static readonly ImmutableArray<string> UnknownModels =
    [
        "gpt-5", "gpt-4-32k", "o1-pro", "o3-pro", "text-davinci-003", "claude-opus-4-1", "claude-3-opus-latest", "gemini-ultra",
    ];

    private readonly SimulationPlan _plan;
    private readonly SimulationRandom _r;
    private readonly SimulatedKey _victim;
    private readonly InjectedAttack _attack;
    private readonly LiteralTable _literals;
    private readonly int _key, _service, _env, _provider;
    private int _sequence;

    public AttackBuilder(SimulationPlan plan, SimulationRandom random, InjectedAttack attack)
    {
        _plan = plan;
        _r = random;
        _attack = attack;
        _victim = attack.Victim;
        _literals = plan.Literals;
        _key = _literals.Intern(_victim.Id);
        _service = _literals.Intern(_victim.Service.Name);
        _env = _literals.Intern(_victim.Env);
        _provider = _literals.Intern(_victim.Service.Provider);
    }

    private int Lit(string text) => _literals.Intern(text);

    private string Agent() => _r.Pick(AttackerAgents);

    private string MainModel => _victim.Service.Models[0];

    private string Expensive => ModelCatalog.MostExpensive(_victim.Service.Provider);

    private int Day(long ms) => (int)((ms - _plan.StartMs) / 86_400_000);

    /// <summary>Networks of the given kinds in neither a country nor an AS the victim uses.</summary>
    private List<SimulatedNetwork> ForeignNetworks(params NetworkKind[] kinds)
    {
        var own = _victim.OwnNetworks.ToList();
        return [.. AddressPlan.Networks.Where(n => kinds.Contains(n.Kind) && !own.Any(o => o.Country == n.Country || o.Asn == n.Asn))];
    }

    /// <summary><paramref name="count"/> addresses in one foreign network of the given kinds.</summary>
    private (int Network, uint[] Addresses) ForeignAddresses(int count, params NetworkKind[] kinds)
    {
        var network = _r.Pick(ForeignNetworks(kinds));
        return (AddressPlan.IndexOf(network), [.. Enumerable.Range(0, count).Select(_ => network.AddressIn(_r))]);
    }

    /// <summary>A time uniformly inside the minute starting at <paramref name="minuteMs"/>.</summary>
    private long InMinute(long minuteMs) => minuteMs + _r.Next(60_000);

    private void Add(long ms, int network, uint ip, string agent, string? model, string operation, long input, long output, int status, string? keyId = null)
    {
        ref var e = ref _attack.Events.Add();
        e.Time = ms;
        e.KeyId = keyId is null ? _key : Lit(keyId);
        e.Service = keyId is null ? _service : -1;
        e.Env = keyId is null ? _env : -1;
        e.Provider = _provider;
        e.UserAgent = Lit(agent);
        e.Model = model is null ? -1 : Lit(model);
        e.Operation = Lit(operation);
        e.Network = network;
        e.ClientIp = ip;
        e.Status = status;
        e.Stream = _attack.Stream;
        e.Sequence = _sequence;
        e.RequestId = SimulationRandom.Mix(_plan.Options.Seed, ((ulong)_attack.Stream << 40) | (uint)_sequence++);
        if (status == 200)
        {
            e.InputTokens = input;
            e.OutputTokens = output;
            var perToken = model is null ? 0 : ModelCatalog.MsPerToken(model);
            e.LatencyTenths = (long)Math.Round((250 + (output * perToken * _r.LogNormal(1, 0.2))) * 10);
            e.CostUnits = model is null ? 0 : ModelCatalog.CostUnits(model, input, output);
        }
        else
        {
            e.LatencyTenths = (long)Math.Round((15 + (45 * _r.NextDouble())) * 10);
        }
    }

    private (long In, long Out) Tokens(double inMedian, double outMedian) =>
        (Math.Clamp((long)_r.LogNormal(inMedian, 0.7), 10, 120_000), Math.Clamp((long)_r.LogNormal(outMedian, 0.5), 1, 16_000));

    /// <summary>Builds the scenario's events from a start time; false when the time does not suit it.</summary>
    public bool Build(long startMs)
    {
        switch (_attack.Scenario.Name)
        {
            case ScenarioCatalog.VolumeBurstNewCountry:
                VolumeBurst(startMs);
                break;
            case ScenarioCatalog.VolumeSameNetwork:
                SameNetwork(startMs);
                break;
            case ScenarioCatalog.LowAndSlow:
                LowAndSlow(startMs);
                break;
            case ScenarioCatalog.EmbeddingsKeyChat:
                EmbeddingsKeyChat(startMs);
                break;
            case ScenarioCatalog.PublicLeak:
                PublicLeak(startMs);
                break;
            case ScenarioCatalog.ExpiredKeyUse:
                ExpiredKeyUse(startMs);
                break;
            case ScenarioCatalog.ModelProbing:
                ModelProbing(startMs);
                break;
            case ScenarioCatalog.ProxyTokenDrain:
                ProxyTokenDrain(startMs);
                break;
            case ScenarioCatalog.CredentialStuffing:
                CredentialStuffing(startMs);
                break;
            default:
                throw new InvalidOperationException($"no builder for scenario '{_attack.Scenario.Name}'");
        }
        return _attack.Events.Count > 0;
    }

    private void VolumeBurst(long start)
    {
        var minutes = _r.Between(20, 60);
        var factor = 30 + (70 * _r.NextDouble());
        var (network, ips) = ForeignAddresses(2, NetworkKind.Vps);
        var agent = Agent();
        for (var m = 0; m < minutes; m++)
        {
            var t = start + (m * MinuteMs);
            var n = _r.Poisson(Math.Min(3000, factor * Math.Max(1, _victim.ExpectedRate(t, Day(t)))));
            for (var i = 0; i < n; i++)
            {
                var (input, output) = Tokens(2000, 900);
                Add(InMinute(t), network, _r.Pick(ips), agent, Expensive, "chat", input, output, _r.Next(50) == 0 ? 429 : 200);
            }
        }
    }

    private void SameNetwork(long start)
    {
        var site = _victim.Sites[0];
        var ips = Enumerable.Range(0, _r.Between(2, 3)).Select(_ => site.Network.AddressIn(_r)).Where(ip => !site.Egress.Contains(ip)).ToArray();
        var agent = _victim.Service.Provider switch
        {
            "anthropic" => "anthropic-python/0.3.11",
            "vertex" => "google-cloud-aiplatform/1.25.0",
            _ => "OpenAI/Python 0.28.1",
        };
        var minutes = _r.Between(45, 120);
        var factor = 8 + (4 * _r.NextDouble());
        for (var m = 0; m < minutes; m++)
        {
            var t = start + (m * MinuteMs);
            var n = _r.Poisson(factor * Math.Max(1, _victim.ExpectedRate(t, Day(t))));
            for (var i = 0; i < n; i++)
            {
                var (input, output) = Tokens(_victim.Service.InputMedian, Math.Max(50, _victim.Service.OutputMedian));
                Add(InMinute(t), site.NetworkIndex, _r.Pick(ips), agent, MainModel, "chat", input, output, 200);
            }
        }
    }

    /// <summary>Minutes of a days-long attack: the drawn length, cut to end an hour before the run does, but never under 12 hours.</summary>
    private int LongMinutes(long start, int drawn) => (int)Math.Max(12 * 60, Math.Min(drawn, (_plan.EndMs - (60 * MinuteMs) - start) / MinuteMs));

    private void LowAndSlow(long start)
    {
        var minutes = LongMinutes(start, _r.Between(2 * 1440, 4 * 1440));
        var rate = 1.0 / _r.Between(2, 7);
        var (network, ips) = ForeignAddresses(_r.Between(1, 2), NetworkKind.Residential, NetworkKind.Mobile);
        var agent = Agent();
        for (var m = 0; m < minutes; m++)
        {
            var t = start + (m * MinuteMs);
            for (var n = _r.Poisson(rate); n > 0; n--)
            {
                var input = 40_000 + _r.NextLong(80_001);
                var output = Math.Clamp((long)_r.LogNormal(1500, 0.5), 1, 16_000);
                Add(InMinute(t), network, _r.Pick(ips), agent, MainModel, "chat", input, output, 200);
            }
        }
    }

    private void EmbeddingsKeyChat(long start)
    {
        var minutes = _r.Between(50, 70);
        var rate = 2 + (3 * _r.NextDouble());
        var (network, ips) = ForeignAddresses(_r.Between(1, 2), NetworkKind.Vps);
        var agent = Agent();
        for (var m = 0; m < minutes; m++)
        {
            var t = start + (m * MinuteMs);
            for (var n = _r.Poisson(rate); n > 0; n--)
            {
                var model = _r.Next(10) < 3 ? "o1" : "gpt-4o";
                var (input, output) = Tokens(3000, 800);
                Add(InMinute(t), network, _r.Pick(ips), agent, model, "chat", input, output, 200);
            }
        }
    }

    private void PublicLeak(long start)
    {
        var span = (double)_r.Between(30, 90);
        var networks = ForeignNetworks(NetworkKind.Vps, NetworkKind.Residential, NetworkKind.Mobile);
        var models = new[] { MainModel, Expensive };
        for (var a = _r.Between(200, 500); a > 0; a--)
        {
            var network = _r.Pick(networks);
            var ip = network.AddressIn(_r);
            var agent = Agent();
            var u = _r.NextDouble();
            var t = start + (long)(span * u * u * MinuteMs);
            for (var n = _r.Between(1, 5); n > 0; n--)
            {
                var (input, output) = Tokens(800, 400);
                Add(t, AddressPlan.IndexOf(network), ip, agent, _r.Pick(models), "chat", input, output, _r.Next(12) == 0 ? 429 : 200);
                t += _r.Between(2000, 120_000);
            }
        }
    }

    private void ExpiredKeyUse(long start)
    {
        var minutes = _r.Between(45, 75);
        var rate = 1 + (3 * _r.NextDouble());
        var (network, ips) = ForeignAddresses(1, NetworkKind.Vps, NetworkKind.Residential);
        var agent = Agent();
        for (var m = 0; m < minutes; m++)
        {
            var t = start + (m * MinuteMs);
            for (var n = _r.Poisson(rate); n > 0; n--)
            {
                var (input, output) = Tokens(_victim.Service.InputMedian, Math.Max(50, _victim.Service.OutputMedian));
                Add(InMinute(t), network, ips[0], agent, MainModel, "chat", input, output, 200);
            }
        }
    }

    private void ModelProbing(long start)
    {
        var (network, ips) = ForeignAddresses(1, NetworkKind.Vps);
        var ip = ips[0];
        var agent = _r.Pick(AttackerAgents.Take(2).ToList());
        var t = start;
        for (var n = _r.Between(3, 10); n > 0; n--)
        {
            Add(t, network, ip, agent, null, "models.list", 0, 0, 200);
            t += _r.Between(5_000, 40_000);
        }
        t += _r.Between(30_000, 120_000);
        var probes = _r.Between(30, 120);
        var spacing = _r.Between(5, 15) * MinuteMs / probes;
        for (var n = 0; n < probes; n++)
        {
            if (_r.NextDouble() < 0.6)
            {
                Add(t, network, ip, agent, _r.Pick(UnknownModels), "chat", 0, 0, 404);
            }
            else
            {
                Add(t, network, ip, agent, _r.Next(2) == 0 ? Expensive : MainModel, "chat", 0, 0, 400);
            }
            t += 1 + _r.NextLong(2 * spacing);
        }
        t += _r.Between(1, 10) * MinuteMs;
        var minutes = _r.Between(30, 90);
        var rate = 2 + (4 * _r.NextDouble());
        var drainStart = t - (t % MinuteMs);
        for (var m = 1; m <= minutes; m++)
        {
            var minute = drainStart + (m * MinuteMs);
            for (var n = _r.Poisson(rate); n > 0; n--)
            {
                var input = Math.Clamp((long)_r.LogNormal(1500, 0.7), 10, 120_000);
                var output = Math.Clamp((long)_r.LogNormal(3000, 0.4), 1, 16_000);
                Add(InMinute(minute), network, ip, agent, Expensive, "chat", input, output, 200);
            }
        }
    }

    private void ProxyTokenDrain(long start)
    {
        var minutes = LongMinutes(start, _r.Between(2 * 1440, 3 * 1440));
        var rate = 3 + (5 * _r.NextDouble());
        var (network, egress) = ForeignAddresses(_r.Between(2, 3), NetworkKind.Vps);
        var clients = ProxiedClientAgents();
        var models = _victim.Service.Models;
        var hourly = 1.0;
        for (var m = 0; m < minutes; m++)
        {
            if (m % 60 == 0)
            {
                hourly = 0.8 + (0.4 * _r.NextDouble());
            }
            var t = start + (m * MinuteMs);
            for (var n = _r.Poisson(rate * hourly); n > 0; n--)
            {
                var model = models.Length > 1 && _r.NextDouble() < 0.3 ? models[1] : models[0];
                var input = Math.Clamp((long)_r.LogNormal(1500, 0.8), 10, 120_000);
                var output = Math.Clamp((long)_r.LogNormal(4000, 0.5), 2000, 16_000);
                Add(InMinute(t), network, _r.Pick(egress), _r.Pick(clients), model, "chat", input, output, _r.Next(50) == 0 ? 429 : 200);
            }
        }
    }

    // The proxy forwards its customers' own user agents: browsers, chat front-ends and SDKs, many versions.
    private List<string> ProxiedClientAgents()
    {
        var agents = new SortedSet<string>(StringComparer.Ordinal);
        while (agents.Count < 40)
        {
            var v = _r.Between(0, 30);
            agents.Add(_r.Next(6) switch
            {
                0 => string.Create(CultureInfo.InvariantCulture, $"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{110 + v}.0.0.0 Safari/537.36"),
                1 => string.Create(CultureInfo.InvariantCulture, $"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{v % 7} Safari/605.1.15"),
                2 => string.Create(CultureInfo.InvariantCulture, $"OpenAI/JS 4.{30 + v}.0"),
                3 => string.Create(CultureInfo.InvariantCulture, $"OpenAI/Python 1.{10 + v}.0"),
                4 => string.Create(CultureInfo.InvariantCulture, $"ChatBox/1.{v % 12}.{v % 5}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"SillyTavern/1.12.{v % 14}"),
            });
        }
        return [.. agents];
    }

    private void CredentialStuffing(long start)
    {
        var attempts = _r.Between(200, 600);
        var span = _r.Between(3, 8) * MinuteMs;
        var (network, ips) = ForeignAddresses(1, NetworkKind.Vps);
        var agent = _r.Next(2) == 0 ? "python-requests/2.32.3" : "Go-http-client/2.0";
        var decoys = Enumerable.Range(0, _r.Between(20, 60))
            .Select(_ => "fp-" + (_r.NextUInt64() & 0xFFFF_FFFF_FFFF).ToString("x12", CultureInfo.InvariantCulture)).ToList();
        var times = Enumerable.Range(0, attempts).Select(_ => start + _r.NextLong(span)).Order().ToList();
        // The first and last attempts are on the victim, so the label's span is the victim's too.
        for (var i = 0; i < attempts; i++)
        {
            var onVictim = i == 0 || i == attempts - 1 || _r.NextDouble() < 0.6;
            Add(times[i], network, ips[0], agent, MainModel, _victim.Service.Operations[0], 0, 0, 401, onVictim ? null : _r.Pick(decoys));
        }
    }
}
