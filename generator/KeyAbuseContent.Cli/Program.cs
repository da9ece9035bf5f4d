using KeyAbuseContent.Cli;
using KeyAbuseContent.Cli.Verbs;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("keyabuse");
    config.PropagateExceptions();
    config.UseStrictParsing();
    config.AddCommand<ValidateCommand>("validate")
        .WithDescription("Check every rule: schema, ids, tags, threats, fields, and every generated query (KQL by Microsoft's language service).")
        .WithExample("validate")
        .WithExample("validate", "--rules", "detections");
    config.AddCommand<BuildCommand>("build")
        .WithDescription("Compile every rule for Sentinel, Elastic and Sigma into a folder; nothing is written when any rule fails.")
        .WithExample("build", "--out", "dist")
        .WithExample("build", "--rules", "detections", "--out", "dist");
    config.AddCommand<QueryCommand>("query")
        .WithDescription("Run one query on local CSV or JSON Lines tables with the embedded executor.")
        .WithExample("query", "--table", "logs-x=events.jsonl", "--now", "2026-11-30T10:00:00Z", "FROM logs-x | STATS n = COUNT(*) BY keyabuse.key.id")
        .WithExample("query", "--format", "json", "ROW a = 1 + 1");
});
return ExitCodes.Run(app, args);
