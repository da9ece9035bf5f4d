namespace KeyAbuseContent.Harness.Simulation;

/// <summary>One injected attack: its scenario, the key it abuses and its events in time order.</summary>
public sealed class InjectedAttack(Scenario scenario, SimulatedKey victim, int stream)
{
    public Scenario Scenario { get; } = scenario;
    public SimulatedKey Victim { get; } = victim;

    /// <summary>The stream number its events carry (tie-breaks and request ids).</summary>
    public int Stream { get; } = stream;

    /// <summary>The injected events, sorted once the attack is built.</summary>
    internal EventBuffer Events { get; } = new();

    /// <summary>Unix milliseconds of its first and last events: the label's start and end.</summary>
    public long FirstMs => Events.Items[0].Time;

    public long LastMs => Events.Items[^1].Time;

    /// <summary>The client addresses of its events, distinct, in numeric order.</summary>
    public IReadOnlyList<string> Addresses
    {
        get
        {
            var addresses = new SortedSet<uint>();
            foreach (var e in Events.Items)
            {
                addresses.Add(e.ClientIp);
            }
            return [.. addresses.Select(a => $"{a >> 24}.{(a >> 16) & 0xFF}.{(a >> 8) & 0xFF}.{a & 0xFF}")];
        }
    }

    /// <summary>The label of the attack, as <c>labels.json</c> holds it.</summary>
    public Datasets.AttackLabel Label =>
        new(Scenario.Name, Victim.Id, DateTime.UnixEpoch.AddMilliseconds(FirstMs), DateTime.UnixEpoch.AddMilliseconds(LastMs)) { Addresses = [.. Addresses] };
}

/// <summary>A selected scenario that was not injected, and why.</summary>
public sealed record SkippedScenario(string Scenario, string Reason);
