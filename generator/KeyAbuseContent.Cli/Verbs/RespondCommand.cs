using System.ComponentModel;
using System.Net;
using KeyAbuseContent.Responder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse respond</c>: the responder behind Elastic's webhook (and any signed sender); wiring only.</summary>
public sealed class RespondCommand : Command<RespondCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--listen <ADDR>")]
        [Description("Address and port to listen on. Default: 127.0.0.1:8787 (loopback); any other address needs --cert and --cert-key")]
        [DefaultValue("127.0.0.1:8787")]
        public string Listen { get; init; } = "127.0.0.1:8787";

        [CommandOption("--config <FILE>")]
        [Description("A JSON configuration file (Responder, Providers, Routes sections); KEYABUSE_* environment variables override it")]
        public string? Config { get; init; }

        [CommandOption("--inventory <FILE>")]
        [Description("The key inventory (inventory.yaml) with owners, routes and response policies. Default: Responder:Inventory of the configuration")]
        public string? Inventory { get; init; }

        [CommandOption("--cert <PEM>")]
        [Description("TLS certificate (PEM) for a non-loopback address")]
        public string? Cert { get; init; }

        [CommandOption("--cert-key <PEM>")]
        [Description("The certificate's private key (PEM)")]
        public string? CertKey { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!IPEndPoint.TryParse(settings.Listen, out var endpoint))
        {
            throw new BadInputException($"--listen '{settings.Listen}' is not an address and port such as 127.0.0.1:8787");
        }
        if ((settings.Cert is null) != (settings.CertKey is null))
        {
            throw new BadInputException("--cert and --cert-key go together");
        }
        var listen = new ListenOptions(endpoint, settings.Cert, settings.CertKey);
        if (listen.Problem is { } problem)
        {
            throw new BadInputException(problem);
        }
        var builder = new ConfigurationBuilder();
        if (settings.Config is { } file)
        {
            if (!File.Exists(file))
            {
                throw new BadInputException($"the configuration file '{file}' does not exist");
            }
            builder.AddJsonFile(Path.GetFullPath(file), optional: false);
        }
        var configuration = builder.AddEnvironmentVariables("KEYABUSE_").Build();
        var (responder, problems) = ResponderSettings.From(configuration);
        var inventoryPath = settings.Inventory ?? configuration["Responder:Inventory"];
        if (inventoryPath is null || !File.Exists(inventoryPath))
        {
            problems = problems.Add($"the inventory '{inventoryPath}' does not exist (--inventory or Responder:Inventory)");
        }
        if (!problems.IsEmpty)
        {
            throw new BadInputException("the responder's configuration: " + string.Join("; ", problems));
        }
        var (inventory, inventoryProblems) = ResponseInventory.Load(inventoryPath!);
        foreach (var p in inventoryProblems)
        {
            Console.Error.WriteLine("warning: " + p);
        }
        var app = ResponderApp.Build(responder!, inventory, listen);
        AnsiConsole.MarkupLineInterpolated($"keyabuse respond: {inventory.Count} key(s), listening on {(listen.Tls ? "https" : "http")}://{endpoint}; Ctrl+C stops");
        app.StartAsync(cancellationToken).GetAwaiter().GetResult();
        app.WaitForShutdownAsync(cancellationToken).GetAwaiter().GetResult();
        return ExitCodes.Ok;
    }
}
