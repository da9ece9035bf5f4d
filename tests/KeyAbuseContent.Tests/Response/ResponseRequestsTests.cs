using System.Text.Json.Nodes;
using KeyAbuseContent.Response;

namespace KeyAbuseContent.Tests.Response;

/// <summary>The request bodies rendered from the shipped templates.</summary>
public sealed class ResponseRequestsTests
{
    private static JsonObject Json(ResponseRequest r) => (JsonObject)JsonNode.Parse(r.Body!)!;

    private static readonly NotificationContent Content = new("rule-a", "key \"1\"", "high", "Key <1> & co", "900 requests", "2026-12-07T05:55:00Z", "ana@example.com", "search", "search-api", "search-oncall", null);

    [Fact]
    public void The_LiteLLM_block_body_escapes_the_key()
    {
        Assert.Equal("a\"b", (string?)Json(ResponseRequests.LiteLlmBlock("a\"b"))["key"]);
    }

    [Fact]
    public void A_LiteLLM_clamp_sends_only_the_limits_given()
    {
        var body = Json(ResponseRequests.LiteLlmClamp("k", 60, null, null));
        Assert.Equal(["key", "rpm_limit"], body.Select(p => p.Key));
    }

    [Theory]
    [InlineData("critical", "critical")]
    [InlineData("high", "error")]
    [InlineData("medium", "warning")]
    [InlineData("low", "info")]
    [InlineData("informational", "info")]
    public void PagerDuty_severity_follows_the_rules_severity(string severity, string expected)
    {
        Assert.Equal(expected, (string?)Json(ResponseRequests.PagerDutyTrigger("r", Content with { Severity = severity }))["payload"]!["severity"]);
    }

    [Fact]
    public void A_Slack_message_escapes_mrkdwn_control_characters()
    {
        var text = Json(ResponseRequests.SlackMessage(Content))["blocks"]![0]!["text"]!["text"]!.GetValue<string>();
        Assert.Contains("Key &lt;1&gt; &amp; co", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_OpenAI_deletion_matches_the_path_and_method_of_OpenAIs_description()
    {
        var spec = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "specs", "openai-openapi.yaml"));
        var at = spec.IndexOf("  /organization/projects/{project_id}/api_keys/{api_key_id}:", StringComparison.Ordinal);
        Assert.True(at >= 0, "the path is in the spec");
        var next = spec.IndexOf("\n  /", at + 10, StringComparison.Ordinal);
        var operation = spec[at..next];
        Assert.Contains("operationId: delete-project-api-key", operation, StringComparison.Ordinal);
        var request = ResponseRequests.OpenAiDeleteProjectKey("proj_abc", "key_abc");
        Assert.Equal(("DELETE", "/v1/organization/projects/proj_abc/api_keys/key_abc"), (request.Method, request.Path));
        Assert.Contains("\n    delete:", operation, StringComparison.Ordinal);
    }
}
