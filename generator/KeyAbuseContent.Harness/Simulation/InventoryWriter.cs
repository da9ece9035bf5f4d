using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>Writes the plan's keys as DESIGN.md's <c>inventory.yaml</c>: ids and route names, never secrets.</summary>
public static partial class InventoryWriter
{
    public static string Write(SimulationPlan plan)
    {
        var text = new StringBuilder();
        text.Append("# Key inventory of a synthetic organisation written by keyabuse simulate (see README.md).\n");
        text.Append("keys:\n");
        foreach (var key in plan.Keys)
        {
            var inv = key.Inventory;
            text.Append("  - id: ").Append(Scalar(key.Id)).Append('\n');
            Line(text, "provider", Scalar(key.Service.Provider));
            Line(text, "owner", Scalar(key.Service.Owner));
            Line(text, "team", Scalar(key.Service.Team));
            Line(text, "service", Scalar(key.Service.Name));
            Line(text, "env", Scalar(key.Env));
            Line(text, "oncall", Scalar(key.Service.Oncall));
            if (inv.ProviderKeyId is { } providerKeyId)
            {
                Line(text, "provider_key_id", Scalar(providerKeyId));
            }
            Line(text, "created", Date(inv.Created));
            if (inv.Expires is { } expires)
            {
                Line(text, "expires", Date(expires));
            }
            if (inv.Rotated is { } rotated)
            {
                Line(text, "rotated", Date(rotated));
            }
            Line(text, "models", List(key.Service.Models));
            Line(text, "operations", List(key.Service.Operations));
            if (!inv.Countries.IsEmpty)
            {
                Line(text, "countries", List(inv.Countries));
            }
            if (!inv.Cidrs.IsEmpty)
            {
                Line(text, "cidrs", List(inv.Cidrs));
            }
            text.Append("    quotas:\n");
            text.Append(CultureInfo.InvariantCulture, $"      rpm: {inv.QuotaRpm}\n      tpm: {inv.QuotaTpm}\n      tokens_per_day: {inv.TokensPerDay}\n      monthly_budget_usd: {inv.MonthlyBudgetUsd}\n");
            text.Append("    labels:\n");
            foreach (var (name, value) in inv.Labels)
            {
                text.Append("      ").Append(name).Append(": ").Append(Scalar(value)).Append('\n');
            }
            if (key.Service.Response is { } response)
            {
                // Read by the responder only (README, "Response"); the rules ignore it.
                text.Append("    response:\n");
                Line(text, "  auto", List(response.Rules));
                Line(text, "  action", "clamp");
                text.Append(CultureInfo.InvariantCulture, $"      clamp: {{rpm: {response.Rpm}, tpm: {response.Tpm}}}\n");
            }
        }
        return text.ToString();
    }

    private static void Line(StringBuilder text, string name, string value) => text.Append("    ").Append(name).Append(": ").Append(value).Append('\n');

    private static string Date(DateTime date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Scalar)) + "]";

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9._@/-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Plain();

    /// <summary>A YAML scalar: plain when it cannot be misread (as a number, a boolean, a null or syntax), double-quoted otherwise.</summary>
    public static string Scalar(string value) =>
        Plain().IsMatch(value) && value is not ("true" or "false" or "null" or "yes" or "no" or "on" or "off" or "True" or "False" or "Null" or "Yes" or "No" or "On" or "Off" or "y" or "n")
            ? value
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
