using System.Collections.Frozen;

namespace KeyAbuseContent.Rules;

/// <summary>
/// The ids a rule may tag: MITRE ATT&amp;CK Enterprise and ATLAS techniques and the OWASP Top 10 for LLM
/// Applications 2025, read from the bundled lists in <c>detections/reference/</c>.
/// </summary>
public sealed class Vocabulary
{
    private readonly FrozenDictionary<string, Technique> _attack;
    private readonly FrozenDictionary<string, Technique> _atlas;
    private readonly FrozenDictionary<string, string> _owasp;
    private readonly FrozenDictionary<string, string> _attackTactics;
    private readonly FrozenDictionary<string, string> _atlasTactics;

    /// <summary>A technique: its id, name, and the tactics it serves.</summary>
    public sealed record Technique(string Id, string Name, IReadOnlyList<string> Tactics);

    private Vocabulary(
        FrozenDictionary<string, Technique> attack,
        FrozenDictionary<string, Technique> atlas,
        FrozenDictionary<string, string> owasp,
        FrozenDictionary<string, string> attackTactics,
        FrozenDictionary<string, string> atlasTactics)
    {
        _attack = attack;
        _atlas = atlas;
        _owasp = owasp;
        _attackTactics = attackTactics;
        _atlasTactics = atlasTactics;
    }

    public static Vocabulary Load(string referenceDir)
    {
        static IEnumerable<string[]> Rows(string path) => File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(SplitCsv);

        var attack = Rows(Path.Combine(referenceDir, "attack-enterprise-techniques.csv"))
            .ToFrozenDictionary(r => r[0], r => new Technique(r[0], r[1], r[2].Split(';')), StringComparer.Ordinal);
        var atlas = Rows(Path.Combine(referenceDir, "atlas-techniques.csv"))
            .ToFrozenDictionary(r => r[0], r => new Technique(r[0], r[1], r[2].Split(';')), StringComparer.Ordinal);
        var owasp = Rows(Path.Combine(referenceDir, "owasp-llm-2025.csv")).ToFrozenDictionary(r => r[0], r => r[1], StringComparer.Ordinal);
        var attackTactics = Rows(Path.Combine(referenceDir, "attack-enterprise-tactics.csv")).ToFrozenDictionary(r => r[1], r => r[0], StringComparer.Ordinal);
        var atlasTactics = Rows(Path.Combine(referenceDir, "atlas-tactics.csv")).ToFrozenDictionary(r => r[0], r => r[1], StringComparer.Ordinal);
        return new Vocabulary(attack, atlas, owasp, attackTactics, atlasTactics);
    }

    /// <summary>Splits one CSV line (quoted fields with doubled quotes allowed).</summary>
    private static string[] SplitCsv(string line)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    sb.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    sb.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(sb.ToString());
                sb.Clear();
            }
            else
            {
                sb.Append(c);
            }
        }
        fields.Add(sb.ToString());
        return [.. fields];
    }

    /// <summary>Resolves a rule tag (<c>attack.t1496.004</c>); null when the id is not in the bundled lists.</summary>
    public RuleTag? Resolve(string tag)
    {
        if (tag.StartsWith("attack.", StringComparison.Ordinal))
        {
            var id = tag["attack.".Length..].ToUpperInvariant();
            return _attack.ContainsKey(id) ? new RuleTag(TagFramework.Attack, id, tag) : null;
        }
        if (tag.StartsWith("atlas.", StringComparison.Ordinal))
        {
            var id = tag["atlas.".Length..].ToUpperInvariant();
            return _atlas.ContainsKey(id) ? new RuleTag(TagFramework.Atlas, id, tag) : null;
        }
        if (tag.StartsWith("owasp.", StringComparison.Ordinal))
        {
            var id = tag["owasp.".Length..].ToUpperInvariant() + ":2025";
            return _owasp.ContainsKey(id) ? new RuleTag(TagFramework.Owasp, id, tag) : null;
        }
        return null;
    }

    public Technique? Attack(string id) => _attack.GetValueOrDefault(id);

    public Technique? Atlas(string id) => _atlas.GetValueOrDefault(id);

    public string? Owasp(string id) => _owasp.GetValueOrDefault(id);

    /// <summary>The ATT&amp;CK tactic id (TA0040) of a tactic name (Impact).</summary>
    public string? AttackTacticId(string name) => _attackTactics.GetValueOrDefault(name);

    /// <summary>The ATLAS tactic name of a tactic id.</summary>
    public string? AtlasTacticName(string id) => _atlasTactics.GetValueOrDefault(id);
}
