using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyAbuseContent.Responder;

/// <summary>
/// One thing the responder did or refused, with its time: <c>notify.slack</c>, <c>contain.litellm.block</c>,
/// <c>hold</c>, <c>confirm</c>, <c>dismiss</c>, <c>refuse</c>. <see cref="Outcome"/> is ok, failed, held or refused; a failure
/// keeps the last HTTP status and the provider's answer.
/// </summary>
public sealed record ActionRecord(DateTimeOffset At, string Action, string? Rule, string? KeyId, string Outcome, int? Status, int Attempts, string Detail)
{
    public bool Ok => Outcome == "ok";

    public string ToJsonLine() => new JsonObject
    {
        ["at"] = At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["action"] = Action,
        ["rule"] = Rule,
        ["key_id"] = KeyId,
        ["outcome"] = Outcome,
        ["status"] = Status,
        ["attempts"] = Attempts,
        ["detail"] = Detail,
    }.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}

/// <summary>Every action, in order, in memory and (when configured) appended to a JSON Lines file.</summary>
public sealed class ActionLog(string? path = null)
{
    private readonly List<ActionRecord> _records = [];
    private readonly Lock _gate = new();

    public void Add(ActionRecord record)
    {
        lock (_gate)
        {
            _records.Add(record);
            if (path is not null)
            {
                File.AppendAllLines(path, [record.ToJsonLine()]);
            }
        }
    }

    public ImmutableArray<ActionRecord> Records
    {
        get
        {
            lock (_gate)
            {
                return [.. _records];
            }
        }
    }
}
