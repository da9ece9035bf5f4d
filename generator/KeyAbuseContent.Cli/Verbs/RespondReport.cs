using System.Globalization;
using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Responder;
using KeyAbuseContent.Responder.Playback;
using Spectre.Console;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse run --respond</c>'s part: plays the response per target and prints time to detect and to revoke per scenario.</summary>
internal static class RespondReport
{
    public static IReadOnlyList<PlaybackResult> Play(IAnsiConsole console, string folder, Dataset dataset, IReadOnlyList<Alert> alerts, IReadOnlyList<Target> targets, TimeSpan confirmDelay, CancellationToken cancellationToken)
    {
        var played = new List<PlaybackResult>();
        var path = Path.Combine(folder, "inventory.yaml");
        if (!File.Exists(path))
        {
            console.MarkupLine("[yellow]--respond: the dataset has no inventory.yaml; nothing to contain[/]");
            return played;
        }
        var (inventory, problems) = ResponseInventory.Load(path);
        foreach (var p in problems)
        {
            Console.Error.WriteLine("warning: " + p);
        }
        foreach (var target in targets)
        {
            var result = ResponsePlayback.RunAsync(dataset, inventory, alerts, target, confirmDelay, cancellationToken).GetAwaiter().GetResult();
            played.Add(result);
            var table = new Table().Title($"{target}: response (an analyst decides each held containment after {Span(confirmDelay)}: confirms an attack's alert, dismisses the rest)")
                .AddColumns("scenario", "attacks", "detected", "notified", "contained", "mean time to detect", "to notify", "to revoke", "successful requests stopped", "tokens stopped");
            foreach (var s in result.Scenarios)
            {
                table.AddRow(Markup.Escape(s.Scenario), Num(s.Attacks), Num(s.Detected), Num(s.Notified), Num(s.Contained), Span(s.MeanTimeToDetect), Span(s.MeanTimeToNotify), Span(s.MeanTimeToRevoke),
                    s.RequestsStopped.ToString(CultureInfo.InvariantCulture), s.TokensStopped.ToString(CultureInfo.InvariantCulture));
            }
            var failed = result.Actions.Count(a => a.Outcome == "failed");
            table.Caption(string.Create(CultureInfo.InvariantCulture, $"{result.Actions.Length} responder actions, {failed} failed; {result.Containments.Length} key(s) contained; {result.Dismissals.Length} held containment(s) dismissed"));
            console.Write(table);
            if (!result.Dismissals.IsEmpty)
            {
                var dismissed = new Table().Title($"{target}: held containments the analyst dismissed (alerts of no labelled attack; nothing contained)")
                    .AddColumns("rule", "key", "alert", "dismissed");
                foreach (var d in result.Dismissals)
                {
                    dismissed.AddRow(Markup.Escape(d.Rule), Markup.Escape(d.KeyId), Alert.Iso(d.AlertAt), Alert.Iso(d.DismissedAt));
                }
                console.Write(dismissed);
            }
            foreach (var note in result.Notes)
            {
                console.MarkupLineInterpolated($"[grey]note: {note}[/]");
            }
        }
        return played;
    }

    /// <summary>Writes what the coverage gate reads: the containment calls and times of every playback, fingerprinted.</summary>
    public static void WriteEvidence(IAnsiConsole console, string path, PackBuild build, string folder, string confirmDelay, IReadOnlyList<PlaybackResult> playbacks)
    {
        var evidence = ResponseEvidenceRecorder.Record(build, folder, confirmDelay, playbacks);
        ResponseEvidenceFile.Write(path, evidence);
        console.MarkupLineInterpolated($"wrote the response evidence {path}: {evidence.Containments.Length} containment call(s) on {string.Join(" and ", evidence.Platforms)}");
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Span(TimeSpan? t) => t is { } v ? (v.TotalMinutes < 60 ? $"{v.TotalMinutes:0} min" : v.TotalHours < 48 ? $"{v.TotalHours:0.0} h" : $"{v.TotalDays:0.#} d") : "-";
}
