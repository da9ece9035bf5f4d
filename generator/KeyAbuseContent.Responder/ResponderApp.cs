using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KeyAbuseContent.Responder;

/// <summary>Where the responder listens, and its TLS certificate when it is reachable beyond the machine.</summary>
public sealed record ListenOptions(IPEndPoint EndPoint, string? CertificatePem = null, string? KeyPem = null)
{
    public bool Tls => CertificatePem is not null;

    /// <summary>A non-loopback address needs TLS: the shared secret and confirm links must not cross a network in clear.</summary>
    public string? Problem => !IPAddress.IsLoopback(EndPoint.Address) && !Tls
        ? $"{EndPoint} is not a loopback address: give --cert and --cert-key so the responder serves TLS"
        : null;
}

/// <summary>
/// <c>keyabuse respond</c>'s HTTP surface (ASP.NET Core minimal API): <c>POST /alerts</c> (signed webhook),
/// <c>GET /confirm/{token}</c> (a page with the confirm button: chat clients open links to preview them, so a GET never
/// acts), <c>POST /confirm/{token}</c>, <c>GET /actions</c> (the action log, with the shared secret as bearer) and
/// <c>GET /healthz</c>.
/// </summary>
public static class ResponderApp
{
    public static WebApplication Build(ResponderSettings settings, ResponseInventory inventory, ListenOptions listen, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(listen.EndPoint, l =>
        {
            if (listen.Tls)
            {
                l.UseHttps(X509Certificate2.CreateFromPemFile(listen.CertificatePem!, listen.KeyPem));
            }
        }));
        var app = builder.Build();
        var clock = time ?? TimeProvider.System;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("keyabuse.respond");
        var http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.Timeout = TimeSpan.FromSeconds(30);
        var responder = new AlertResponder(settings, inventory, http, new ActionLog(settings.ActionLogPath), clock, logger);
        var signature = new WebhookSignature(settings.Secret, clock, settings.SignatureTolerance);
        Map(app, settings, responder, signature);
        return app;
    }

    private static void Map(WebApplication app, ResponderSettings settings, AlertResponder responder, WebhookSignature signature)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));

        app.MapPost("/alerts", async (HttpRequest request, CancellationToken ct) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
            var header = request.Headers[WebhookSignature.Header].ToString();
            if (header.Length == 0 && settings.AcceptBasicAuth && BasicSecretMatches(request, settings.Secret))
            {
                header = null;
            }
            else
            {
                var problem = signature.Verify(header, body);
                if (problem != SignatureProblem.None)
                {
                    responder.Refuse($"webhook signature: {problem}");
                    return problem == SignatureProblem.Replayed ? Results.Conflict(Error($"signature {problem}")) : Results.Json(Error($"signature {problem}"), statusCode: 401);
                }
            }
            var (alerts, parseProblem) = IncomingAlert.Parse(body);
            if (parseProblem is not null)
            {
                responder.Refuse("bad alert body: " + parseProblem);
                return Results.BadRequest(Error(parseProblem));
            }
            var outcomes = new List<AlertOutcome>();
            foreach (var alert in alerts)
            {
                outcomes.Add(await responder.HandleAsync(alert, ct).ConfigureAwait(false));
            }
            var result = new JsonArray([.. outcomes.Select(o => (JsonNode)new JsonObject
            {
                ["rule"] = o.Alert.Rule,
                ["key_id"] = o.Alert.KeyId,
                ["refused"] = o.Refused,
                ["confirm_url"] = o.ConfirmUrl,
                ["actions"] = new JsonArray([.. o.Actions.Select(a => JsonNode.Parse(a.ToJsonLine()))]),
            })]);
            return outcomes.All(o => o.Refused)
                ? Results.Content(result.ToJsonString(), "application/json", Encoding.UTF8, 422)
                : Results.Content(result.ToJsonString(), "application/json", Encoding.UTF8, 202);
        });

        app.MapGet("/confirm/{token}", (string token) =>
        {
            var problem = responder.Check(token);
            if (problem != ConfirmProblem.None)
            {
                return Results.Content($"<!doctype html><title>KeyAbuseContent</title><p>This confirmation link cannot be used: {problem}.</p>", "text/html", Encoding.UTF8, Status(problem));
            }
            var html = "<!doctype html><title>Confirm containment</title><p>Contain this key at its provider? An OpenAI key is deleted and cannot be restored.</p>"
                + $"<form method=\"post\" action=\"/confirm/{WebUtility.HtmlEncode(token)}\"><button type=\"submit\">Confirm containment</button></form>";
            return Results.Content(html, "text/html", Encoding.UTF8);
        });

        app.MapPost("/confirm/{token}", async (string token, CancellationToken ct) =>
        {
            var outcome = await responder.ConfirmAsync(token, ct).ConfigureAwait(false);
            var body = new JsonObject
            {
                ["problem"] = outcome.Problem == ConfirmProblem.None ? null : outcome.Problem.ToString(),
                ["actions"] = new JsonArray([.. outcome.Actions.Select(a => JsonNode.Parse(a.ToJsonLine()))]),
            };
            return Results.Content(body.ToJsonString(), "application/json", Encoding.UTF8, outcome.Problem == ConfirmProblem.None ? 200 : Status(outcome.Problem));
        });

        app.MapGet("/actions", (HttpRequest request) =>
        {
            var auth = request.Headers.Authorization.ToString();
            if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !SecretMatches(auth[7..], settings.Secret))
            {
                return Results.Json(Error("the action log needs the shared secret as bearer"), statusCode: 401);
            }
            return Results.Content("[" + string.Join(",", responder.Log.Records.Select(r => r.ToJsonLine())) + "]", "application/json");
        });
    }

    private static int Status(ConfirmProblem problem) => problem switch
    {
        ConfirmProblem.Expired => 410,
        ConfirmProblem.Used => 409,
        ConfirmProblem.Malformed => 400,
        _ => 401,
    };

    private static JsonObject Error(string message) => new() { ["error"] = message };

    private static bool SecretMatches(string given, byte[] secret) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), secret);

    private static bool BasicSecretMatches(HttpRequest request, byte[] secret)
    {
        var auth = request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return false;
        }
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..]));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon >= 0 && SecretMatches(decoded[(colon + 1)..], secret);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
