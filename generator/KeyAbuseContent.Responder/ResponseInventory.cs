using System.Collections.Immutable;
using System.Globalization;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Yaml;

namespace KeyAbuseContent.Responder;

/// <summary>What a LiteLLM key's automatic containment does: block it, or clamp its limits.</summary>
public enum LiteLlmContainment
{
    Block,
    Clamp,
}

/// <summary>
/// How a team wants a key contained: the rules whose alerts contain it without waiting for an analyst (LiteLLM
/// only; an OpenAI deletion always waits), and for LiteLLM whether to block or clamp, with the clamp's limits.
/// </summary>
public sealed record ContainmentPolicy(ImmutableHashSet<string> AutoRules, LiteLlmContainment Action, long? RpmLimit, long? TpmLimit, double? MaxBudgetUsd)
{
    public static readonly ContainmentPolicy None = new([], LiteLlmContainment.Block, null, null, null);
}

/// <summary>
/// A key as the responder needs it: who owns it, its route's name, and how to reach it at its provider
/// (<see cref="ProviderKeyId"/>, the provider's id of the key when it differs from the id events carry, and the
/// OpenAI project). Never a secret.
/// </summary>
public sealed record ResponseKey(string Id, string? Provider, string? Owner, string? Team, string? Service, string? Route, string? Project, string ProviderKeyId, ContainmentPolicy Policy);

/// <summary>
/// The key inventory (DESIGN.md's inventory.yaml) read for the responder, with the fields only it uses:
/// <c>project</c>, <c>provider_key_id</c> and <c>response: {auto: [rules], action: block|clamp, clamp: {rpm, tpm, budget_usd}}</c>.
/// </summary>
public sealed class ResponseInventory
{
    private readonly ImmutableDictionary<string, ResponseKey> _keys;

    public ResponseInventory(IEnumerable<ResponseKey> keys) => _keys = keys.ToImmutableDictionary(k => k.Id, StringComparer.Ordinal);

    public ResponseKey? Find(string keyId) => _keys.GetValueOrDefault(keyId);

    public int Count => _keys.Count;

    /// <summary>Reads an inventory file; problems (file:line: message) are returned, and a key with a problem is left out.</summary>
    public static (ResponseInventory Inventory, ImmutableArray<string> Problems) Load(string path)
    {
        var problems = ImmutableArray.CreateBuilder<string>();
        var diagnostics = new DiagnosticBag();
        var root = YamlDocumentReader.Read(path, File.ReadAllText(path), diagnostics);
        problems.AddRange(diagnostics.Items.Select(d => $"{path}:{d.Position.Line}: {d.Message}"));
        var keys = new List<ResponseKey>();
        if (root is not YamlMapping map || map["keys"] is not YamlSequence list)
        {
            problems.Add($"{path}: the inventory is a mapping with a 'keys' list");
            return (new ResponseInventory(keys), problems.ToImmutable());
        }
        foreach (var item in list.Items)
        {
            if (item is not YamlMapping k || Text(k, "id") is not { Length: > 0 } id)
            {
                problems.Add($"{path}:{item.Start.Line}: each key has an id");
                continue;
            }
            try
            {
                keys.Add(new ResponseKey(id, Text(k, "provider"), Text(k, "owner"), Text(k, "team"), Text(k, "service"), Route(k),
                    Text(k, "project"), Text(k, "provider_key_id") ?? id, Policy(k["response"])));
            }
            catch (FormatException e)
            {
                problems.Add($"{path}:{item.Start.Line}: key '{id}': {e.Message}");
            }
        }
        var duplicates = keys.GroupBy(k => k.Id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        problems.AddRange(duplicates.Select(d => $"{path}: key '{d}' is listed twice; its first entry is used"));
        return (new ResponseInventory(keys.DistinctBy(k => k.Id, StringComparer.Ordinal)), problems.ToImmutable());
    }

    private static string? Text(YamlMapping k, string name) => k[name] switch
    {
        null or YamlScalar { Type: ScalarType.Null } => null,
        YamlScalar s => s.Text,
        _ => throw new FormatException($"'{name}' is a string"),
    };

    /// <summary>The route's name: a string, or the first name of a mapping of routes; a URL is refused (routes are names).</summary>
    private static string? Route(YamlMapping k)
    {
        var route = k["oncall"] switch
        {
            null or YamlScalar { Type: ScalarType.Null } => null,
            YamlScalar s => s.Text,
            _ => throw new FormatException("'oncall' is the name of a route"),
        };
        if (route is not null && (route.Contains("://", StringComparison.Ordinal) || route.Length > 200))
        {
            throw new FormatException("'oncall' is the name of a route, never a URL or a routing key");
        }
        return string.IsNullOrWhiteSpace(route) ? null : route;
    }

    private static ContainmentPolicy Policy(YamlNode? node)
    {
        if (node is null or YamlScalar { Type: ScalarType.Null })
        {
            return ContainmentPolicy.None;
        }
        if (node is not YamlMapping m)
        {
            throw new FormatException("'response' is a mapping: {auto: [rules], action: block|clamp, clamp: {rpm, tpm, budget_usd}}");
        }
        var auto = m["auto"] switch
        {
            null => [],
            YamlSequence s => s.Items.Select(i => i is YamlScalar v ? v.Text : throw new FormatException("'response.auto' lists rule names")).ToImmutableHashSet(StringComparer.Ordinal),
            _ => throw new FormatException("'response.auto' lists rule names"),
        };
        var action = (m["action"] as YamlScalar)?.Text switch
        {
            null or "block" => LiteLlmContainment.Block,
            "clamp" => LiteLlmContainment.Clamp,
            var other => throw new FormatException($"'response.action' is block or clamp, not '{other}'"),
        };
        var clamp = m["clamp"] as YamlMapping;
        var policy = new ContainmentPolicy(auto, action, Long(clamp, "rpm"), Long(clamp, "tpm"), Number(clamp, "budget_usd"));
        if (action == LiteLlmContainment.Clamp && policy.RpmLimit is null && policy.TpmLimit is null && policy.MaxBudgetUsd is null)
        {
            throw new FormatException("'response.action: clamp' needs clamp: {rpm, tpm or budget_usd}");
        }
        return policy;
    }

    private static long? Long(YamlMapping? m, string name) => m?[name] is YamlScalar { Type: ScalarType.Int } s ? YamlDocumentReader.ParseInt(s.Text)
        : m?[name] is null ? null : throw new FormatException($"'clamp.{name}' is an integer");

    private static double? Number(YamlMapping? m, string name) => m?[name] switch
    {
        null => null,
        YamlScalar { Type: ScalarType.Int or ScalarType.Float } s => double.Parse(s.Text, CultureInfo.InvariantCulture),
        _ => throw new FormatException($"'clamp.{name}' is a number"),
    };
}
