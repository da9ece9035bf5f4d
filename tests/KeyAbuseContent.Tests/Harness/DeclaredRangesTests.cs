using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// A profile over the source address against the inventory's declared <c>cidrs</c>, an IPv6 range among them: both
/// targets flag the same addresses outside the declared range, of either family, and agree on every run. (One range a
/// key: ES|QL's CIDR_MATCH, a single-value function, gives null for a multi-valued list of ranges.)
/// </summary>
public sealed class DeclaredRangesTests : IDisposable
{
    private const string Rule = """
        id: a0000001-0000-4000-8000-0000000000c6
        name: fixture-address-outside-declared-ranges
        title: Fixture - source address outside the key's declared ranges
        description: A request from an address outside the ranges the inventory declares for the key.
        severity: medium
        tags: [attack.t1078.004, owasp.llm10]
        threats: [unusual-network]
        source: activity
        schedule: {every: 5m, lookback: 10m}
        detect:
          kind: profile
          by: [key_id]
          field: client_ip
          profile: {declared: cidrs}
          condition: requests >= 1
        entities: {key: key_id, ip: client_ip}
        output:
          title: "Key {key_id} used from {client_ip}"
          summary: "Key {key_id} made {requests} requests from {client_ip}; declared {allowed}."
        version: 1.0.0
        author: tests
        created: 2026-12-01
        modified: 2026-12-01
        references: []
        status: experimental
        false_positives: [A fixture of the generator's tests.]
        tests: []
        """;

    private readonly TestLibrary _library = new();

    public void Dispose() => _library.Dispose();

    private PackRun Run()
    {
        _library.Rule("network/fixture-address-outside-declared-ranges.yaml", Rule);
        var build = _library.Build();
        Assert.True(build.Succeeded, string.Join("\n", build.Diagnostics));
        var folder = Path.Combine(_library.TestDataDir, "declared-ranges");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "inventory.yaml"), "keys:\n  - id: k1\n    cidrs: [\"2001:db8::/32\"]\n  - id: k2\n    cidrs: [203.0.113.0/24]\n");
        var events = new[]
            {
                ("09:01", "k1", "2001:db8::5"), ("09:02", "k2", "203.0.113.7"), ("09:21", "k1", "2001:db9::9"),
                ("11:41", "k1", "203.0.113.7"), ("10:01", "k2", "2001:db8::5"),
            }
            .Select((e, i) => $$"""{"time":"2026-11-30T{{e.Item1}}:00Z","key_id":"{{e.Item2}}","client_ip":"{{e.Item3}}","operation":"chat","status":200,"request_id":"r{{i}}"}""");
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), string.Join("\n", events) + "\n");
        var dataset = DatasetLoader.Load(folder);
        Assert.Empty(dataset.Problems);
        return new PackRunner(new RunOptions(), _library.RulesDir).Run(build.Rules, dataset, sentinel: true, elastic: true, parity: true);
    }

    [Fact]
    public void BothTargetsFlagTheAddressesOutsideAnIpv6OrIpv4DeclaredRange()
    {
        var run = Run();
        Assert.True(run.Parity.IsEmpty, string.Join("\n", run.Parity.Select(p => $"{p.At:O}: {p.Message}")));
        foreach (var target in new[] { Target.Sentinel, Target.Elastic })
        {
            // Alerts of a key an hour apart, so suppression leaves each one.
            var titles = run.Alerts.Where(a => a.Target == target).Select(a => a.Title).Distinct().Order(StringComparer.Ordinal);
            Assert.Equal(["Key k1 used from 2001:db9::9", "Key k1 used from 203.0.113.7", "Key k2 used from 2001:db8::5"], titles);
        }
    }
}
