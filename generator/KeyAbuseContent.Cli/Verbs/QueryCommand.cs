using System.Collections.Immutable;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;
using KeyAbuseContent.Engine.Kql;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse query</c>: one query on local tables with the embedded executor.</summary>
public sealed class QueryCommand : Command<QueryCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--lang <LANG>")]
        [Description("The query language: kql or esql. Default: kql")]
        [DefaultValue("kql")]
        public string Lang { get; init; } = "kql";

        [CommandOption("--table <NAME=FILE>")]
        [Description("A table (for ES|QL an index) from a CSV file (column:type headers) or a JSON Lines file; repeatable")]
        public string[] Tables { get; init; } = [];

        [CommandOption("--now <TIME>")]
        [Description("The run time NOW() returns, RFC 3339. Default: the current time")]
        public string? Now { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("table, json or csv. Default: table")]
        [DefaultValue("table")]
        public string Format { get; init; } = "table";

        [CommandArgument(0, "<QUERY>")]
        [Description("The query text")]
        public string Query { get; init; } = "";

        public override ValidationResult Validate()
        {
            if (Lang is not ("kql" or "esql"))
            {
                return ValidationResult.Error($"--lang '{Lang}': kql or esql");
            }
            if (Format is not ("table" or "json" or "csv"))
            {
                return ValidationResult.Error($"--format '{Format}': table, json or csv");
            }
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        if (settings.Now is { } text && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            throw new BadInputException($"--now '{text}' is not an RFC 3339 date-time");
        }
        else if (settings.Now is not null)
        {
            now = DateTimeOffset.Parse(settings.Now, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal).UtcDateTime;
        }
        var tables = new Dictionary<string, DataTable>(StringComparer.Ordinal);
        foreach (var spec in settings.Tables)
        {
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new BadInputException($"--table '{spec}': write NAME=FILE");
            }
            var name = spec[..eq];
            try
            {
                tables[name] = TableFiles.Load(name, spec[(eq + 1)..], settings.Lang == "kql" ? TableDialect.Kql : TableDialect.Esql);
            }
            catch (TableFileException e)
            {
                throw new BadInputException(e.Message);
            }
        }
        DataTable result;
        try
        {
            if (settings.Lang == "kql")
            {
                result = new KqlEngine().Execute(settings.Query, tables, [], now).Table;
            }
            else
            {
                var esql = new EsqlEngine().Execute(settings.Query, tables, now);
                foreach (var warning in esql.Warnings)
                {
                    Console.Error.WriteLine("warning: " + warning);
                }
                result = esql.Table;
            }
        }
        catch (KqlException e)
        {
            Console.Error.WriteLine($"error: query:{e.Line}:{e.Column}: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (EsqlException e)
        {
            Console.Error.WriteLine("error: query " + e.Message);
            return ExitCodes.BadInput;
        }
        switch (settings.Format)
        {
            case "json":
                Console.Out.WriteLine(Json(result));
                break;
            case "csv":
                Console.Out.Write(Csv(result));
                break;
            default:
                var table = new Table();
                foreach (var c in result.Columns)
                {
                    table.AddColumn(Markup.Escape($"{c.Name}:{c.Type}"));
                }
                foreach (var row in result.Rows)
                {
                    table.AddRow([.. row.Select(v => Markup.Escape(Text(v)))]);
                }
                AnsiConsole.Write(table);
                break;
        }
        return ExitCodes.Ok;
    }

    /// <summary>A value as text: date-times ISO 8601 UTC, timespans in KQL's form, multi-values as JSON arrays.</summary>
    public static string Text(object? value) => value switch
    {
        null => "",
        DateTime d => d.ToString(d.Ticks % TimeSpan.TicksPerMillisecond == 0 ? "yyyy-MM-ddTHH:mm:ss.fffZ" : "yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture),
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        JsonNode n => n.ToJsonString(),
        ImmutableArray<object?> multi => "[" + string.Join(", ", multi.Select(Text)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static JsonNode? Node(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(Text(d)),
        JsonNode n => n.DeepClone(),
        ImmutableArray<object?> multi => new JsonArray([.. multi.Select(Node)]),
        _ => JsonValue.Create(Text(value)),
    };

    /// <summary>The result as <c>{"columns":[{"name","type"}],"rows":[[...]]}</c>.</summary>
    public static string Json(DataTable table) => new JsonObject
    {
        ["columns"] = new JsonArray([.. table.Columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type })]),
        ["rows"] = new JsonArray([.. table.Rows.Select(r => (JsonNode)new JsonArray([.. r.Select(Node)]))]),
    }.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static string Csv(DataTable table)
    {
        static string Cell(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", table.Columns.Select(c => Cell($"{c.Name}:{c.Type}"))));
        foreach (var row in table.Rows)
        {
            sb.AppendLine(string.Join(",", row.Select(v => Cell(Text(v)))));
        }
        return sb.ToString();
    }
}
