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
});
return ExitCodes.Run(app, args);
