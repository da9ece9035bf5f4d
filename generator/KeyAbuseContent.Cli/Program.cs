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
    config.AddCommand<TestCommand>("test")
        .WithDescription("Run each rule's declared tests on Sentinel and Elastic (the published queries, on the platforms' schedules), with parity between them.")
        .WithExample("test")
        .WithExample("test", "--target", "elastic", "--junit", "rule-tests.xml")
        .WithExample("test", "--rule", "llm-key-rpm-above-baseline")
        .WithExample("test", "--results", "TestResults/rule-tests.json")
        .WithExample("test", "--rule", "llm-key-rpm-above-baseline", "--engine", "elasticsearch=http://localhost:9200");
    config.AddCommand<CoverageCommand>("coverage")
        .WithDescription("The threat model's threats and checks, ATT&CK, ATLAS and OWASP LLM Top 10 against rules whose tests pass on both targets; exit 1 when a threat or check is not covered.")
        .WithExample("coverage")
        .WithExample("coverage", "--results", "TestResults/rule-tests.json")
        .WithExample("coverage", "--format", "navigator")
        .WithExample("coverage", "--results", "TestResults/rule-tests.json", "--format", "md", "--out", "dist/coverage");
    config.AddCommand<BundleCommand>("bundle")
        .WithDescription("Write the release bundle dist/KeyAbuseContent-<VERSION>.zip (Sentinel, Elastic, Sigma, REPORT.md, report.json, coverage, changelog) of a library whose tests pass.")
        .WithExample("bundle")
        .WithExample("bundle", "--results", "TestResults/rule-tests.json", "--out", "dist")
        .WithExample("bundle", "--results", "TestResults/rule-tests.json", "--record", "releases");
    config.AddCommand<RunCommand>("run")
        .WithDescription("Run the whole library on the rules' schedules over a dataset; write the alerts and score them against its labels.")
        .WithExample("run", "--dataset", "test-data/volume/rpm-burst", "--out", "alerts.jsonl")
        .WithExample("run", "--dataset", "test-data/network/new-country-burst", "--target", "sentinel", "--ingestion-delay", "2m")
        .WithExample("run", "--dataset", "test-data/volume/rpm-burst", "--engine", "kusto=https://mycluster.westeurope.kusto.windows.net/KeyAbuse", "--engine", "elasticsearch=https://localhost:9200");
    config.AddCommand<QueryCommand>("query")
        .WithDescription("Run one query on local CSV or JSON Lines tables with the embedded executor.")
        .WithExample("query", "--table", "Events=events.csv", "--now", "2026-11-30T10:00:00Z", "Events | where TimeGenerated > ago(1h) | summarize count() by KeyId")
        .WithExample("query", "--lang", "esql", "--table", "logs-x=events.jsonl", "FROM logs-x | STATS n = COUNT(*) BY keyabuse.key.id")
        .WithExample("query", "--format", "json", "print x = 1 + 1");
    config.AddCommand<SimulateCommand>("simulate")
        .WithDescription("Write a labelled synthetic stolen-key dataset: benign traffic that embarrasses naive rules, attacks from other networks, inventory, labels, geo.")
        .WithExample("simulate", "--out", "/tmp/sim", "--seed", "1")
        .WithExample("simulate", "--out", "sim-short", "--days", "3", "--services", "3", "--scenarios", "credential-stuffing,expired-key-use");
    config.AddCommand<RespondCommand>("respond")
        .WithDescription("The responder behind Elastic's webhook: verifies signed alerts, notifies the key's route, contains the key at its provider (automatically for LiteLLM rules a team marks, else after an analyst confirms) and records every action.")
        .WithExample("respond", "--config", "responder.json", "--inventory", "inventory.yaml")
        .WithExample("respond", "--listen", "0.0.0.0:8443", "--cert", "tls.crt", "--cert-key", "tls.key", "--config", "responder.json");
});
return ExitCodes.Run(app, args);
