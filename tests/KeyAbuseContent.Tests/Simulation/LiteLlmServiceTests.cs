using System.Security.Cryptography;
using System.Text;
using KeyAbuseContent.Harness.Simulation;
using KeyAbuseContent.Responder;

namespace KeyAbuseContent.Tests.Simulation;

/// <summary>The simulated organisation's LiteLLM-proxied service: a virtual key known by its token hash, clamped automatically.</summary>
public sealed class LiteLlmServiceTests
{
    private static ResponseKey LiteLlmKey(ScratchFolder scratch)
    {
        Simulator.Run(new SimulationOptions { Days = 1, Services = 7, KeysPerService = 1, Seed = 7, Scenarios = [] }, scratch.Path);
        var (inventory, problems) = ResponseInventory.Load(Path.Combine(scratch.Path, Simulator.InventoryFile));
        Assert.Empty(problems);
        return Assert.IsType<ResponseKey>(inventory.Find("research-agent-prod-1"));
    }

    [Fact]
    public void A_virtual_key_has_LiteLLM_s_format_and_the_inventory_its_token_hash()
    {
        var key = LiteLlmVirtualKey.Generate(7, 6);
        Assert.Matches("^sk-[A-Za-z0-9_-]{22}$", key);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(key))), LiteLlmVirtualKey.TokenHash(key));
    }

    [Fact]
    public void The_LiteLLM_key_of_the_inventory_is_clamped_automatically_for_the_volume_rules()
    {
        using var scratch = new ScratchFolder();
        var key = LiteLlmKey(scratch);
        Assert.Equal("litellm", key.Provider);
        Assert.Matches("^[0-9a-f]{64}$", key.ProviderKeyId);
        Assert.Equal(LiteLlmContainment.Clamp, key.Policy.Action);
        Assert.Equal((10L, 20_000L), (key.Policy.RpmLimit!.Value, key.Policy.TpmLimit!.Value));
        Assert.Contains("llm-key-rpm-above-baseline", key.Policy.AutoRules);
    }

    [Fact]
    public void Every_rule_a_team_clamps_automatically_is_a_rule_of_the_library()
    {
        var rules = Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "detections"), "*.yaml", SearchOption.AllDirectories).Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        var auto = ServiceCatalog.Templates.Select(t => t.Response).OfType<AutoClamp>().SelectMany(r => r.Rules).ToList();
        Assert.NotEmpty(auto);
        Assert.All(auto, rule => Assert.Contains(rule, rules));
    }
}
