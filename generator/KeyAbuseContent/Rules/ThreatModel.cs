using System.Collections.Immutable;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Yaml;

namespace KeyAbuseContent.Rules;

/// <summary>A threat or a validation check of the threat model.</summary>
public sealed record ThreatEntry(string Id, string Title, string Description, bool IsCheck);

/// <summary><c>detections/threat-model.yaml</c>: the threats and checks rules must cover.</summary>
public sealed class ThreatModel
{
    private ThreatModel(ImmutableArray<ThreatEntry> entries) => Entries = entries;

    public ImmutableArray<ThreatEntry> Entries { get; }

    public bool Contains(string id) => Entries.Any(e => e.Id == id);

    public static ThreatModel Load(string path, DiagnosticBag diagnostics)
    {
        var file = PathDisplay.Of(path);
        if (!File.Exists(path))
        {
            diagnostics.Error(new SourcePosition(file, 0, 0), null, DiagnosticCodes.ThreatModel, "the threat model is missing");
            return new ThreatModel([]);
        }
        var root = YamlDocumentReader.Read(file, File.ReadAllText(path), diagnostics);
        var entries = ImmutableArray.CreateBuilder<ThreatEntry>();
        if (root is not YamlMapping map)
        {
            if (root is not null)
            {
                diagnostics.Error(root.Start, null, DiagnosticCodes.ThreatModel, "the threat model is a mapping with 'threats' and 'checks'");
            }
            return new ThreatModel([]);
        }
        foreach (var entry in map.Entries)
        {
            if (entry.Key.Text is not ("threats" or "checks"))
            {
                diagnostics.Error(entry.Key.Start, null, DiagnosticCodes.ThreatModel, $"unknown section '{entry.Key.Text}'; expected threats and checks");
                continue;
            }
            if (entry.Value is not YamlSequence items)
            {
                diagnostics.Error(entry.Value.Start, null, DiagnosticCodes.ThreatModel, $"'{entry.Key.Text}' is a list");
                continue;
            }
            foreach (var item in items.Items)
            {
                if (item is not YamlMapping m || m["id"] is not YamlScalar id || m["title"] is not YamlScalar title)
                {
                    diagnostics.Error(item.Start, null, DiagnosticCodes.ThreatModel, "each entry has an id and a title");
                    continue;
                }
                if (entries.Any(e => e.Id == id.Text))
                {
                    diagnostics.Error(id.Start, null, DiagnosticCodes.ThreatModel, $"duplicate threat id '{id.Text}'");
                    continue;
                }
                var description = (m["description"] as YamlScalar)?.Text ?? "";
                entries.Add(new ThreatEntry(id.Text, title.Text, description, entry.Key.Text == "checks"));
            }
        }
        return new ThreatModel(entries.ToImmutable());
    }
}
