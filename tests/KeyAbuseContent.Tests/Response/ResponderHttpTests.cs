using System.Net;
using System.Text;
using KeyAbuseContent.Responder;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace KeyAbuseContent.Tests.Response;

/// <summary><c>keyabuse respond</c>'s HTTP surface: signed webhooks in, confirm pages, the action log.</summary>
public sealed class ResponderHttpTests
{
    private sealed class Running(ResponderFixture fixture, WebApplication app, HttpClient client) : IAsyncDisposable
    {
        public ResponderFixture Fixture => fixture;
        public HttpClient Client => client;

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
            await fixture.DisposeAsync();
        }
    }

    private static async Task<Running> StartAsync()
    {
        var f = await ResponderFixture.StartAsync();
        var app = ResponderApp.Build(f.Settings, new ResponseInventory(ResponderFixture.Keys), new ListenOptions(new IPEndPoint(IPAddress.Loopback, 0)), f.Clock);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Running(f, app, new HttpClient { BaseAddress = new Uri(address) });
    }

    private const string AlertBody = """{"rule":"llm-key-rpm-above-baseline","key_id":"proxy-auto","severity":"high","title":"t","summary":"s","time":"2026-12-07T05:55:00Z"}""";

    private static HttpRequestMessage Post(string body, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/alerts") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation(WebhookSignature.Header, signature);
        }
        return request;
    }

    private static string Sign(string body, DateTimeOffset at) => WebhookSignature.Sign(Encoding.UTF8.GetBytes(ResponderFixture.Secret), body, at);

    [Fact]
    public async Task A_signed_alert_is_accepted()
    {
        await using var r = await StartAsync();
        using var response = await r.Client.SendAsync(Post(AlertBody, Sign(AlertBody, ResponderFixture.Start)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains(r.Fixture.Local.Received, x => x.Path == "/litellm/key/block");
    }

    [Fact]
    public async Task An_alert_without_a_signature_is_refused()
    {
        await using var r = await StartAsync();
        using var response = await r.Client.SendAsync(Post(AlertBody, null));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(r.Fixture.Local.Received);
    }

    [Fact]
    public async Task An_alert_whose_body_was_changed_after_signing_is_refused()
    {
        await using var r = await StartAsync();
        var signature = Sign(AlertBody, ResponderFixture.Start);
        using var response = await r.Client.SendAsync(Post(AlertBody.Replace("proxy-auto", "proxy-clamp", StringComparison.Ordinal), signature));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_replayed_signed_alert_is_refused()
    {
        await using var r = await StartAsync();
        var signature = Sign(AlertBody, ResponderFixture.Start);
        using var first = await r.Client.SendAsync(Post(AlertBody, signature));
        using var second = await r.Client.SendAsync(Post(AlertBody, signature));
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    [Fact]
    public async Task An_alert_signed_too_long_ago_is_refused()
    {
        await using var r = await StartAsync();
        using var response = await r.Client.SendAsync(Post(AlertBody, Sign(AlertBody, ResponderFixture.Start - TimeSpan.FromMinutes(10))));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_alert_for_an_unknown_key_is_answered_422()
    {
        await using var r = await StartAsync();
        var body = AlertBody.Replace("proxy-auto", "stranger", StringComparison.Ordinal);
        using var response = await r.Client.SendAsync(Post(body, Sign(body, ResponderFixture.Start)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }

    [Fact]
    public async Task Opening_a_confirm_link_does_not_contain_the_key()
    {
        await using var r = await StartAsync();
        var body = AlertBody.Replace("proxy-auto", "oa-key", StringComparison.Ordinal);
        using var accepted = await r.Client.SendAsync(Post(body, Sign(body, ResponderFixture.Start)));
        var json = System.Text.Json.Nodes.JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!;
        var path = new Uri((string)json[0]!["confirm_url"]!).AbsolutePath;
        using var page = await r.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain(r.Fixture.Local.Received, x => x.Service == "openai");
        using var confirmed = await r.Client.PostAsync(path, null);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Single(r.Fixture.Local.Received, x => x.Service == "openai");
    }

    [Fact]
    public async Task The_action_log_needs_the_shared_secret()
    {
        await using var r = await StartAsync();
        using var response = await r.Client.GetAsync("/actions");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public void A_non_loopback_address_without_tls_is_refused()
    {
        Assert.NotNull(new ListenOptions(new IPEndPoint(IPAddress.Any, 8787)).Problem);
        Assert.Null(new ListenOptions(new IPEndPoint(IPAddress.Loopback, 8787)).Problem);
    }
}
