namespace KeyAbuseContent.Tests.Support;

/// <summary>A valid rule's text, with the parts a test varies.</summary>
internal static class RuleText
{
    public static string Threshold(
        string name = "test-auth-burst",
        string id = "11111111-2222-4333-8444-555555555555",
        string where = "status in (401, 403)",
        string condition = "failures >= 20",
        string tags = "[attack.t1110, owasp.llm10]",
        string aggregate = "failures: count()",
        string title = "Key {key_id}: {failures} failures") => $$"""
        id: {{id}}
        name: {{name}}
        version: 1.0.0
        title: A test rule for authentication failures
        description: A description long enough to pass the schema's minimum length.
        status: experimental
        severity: medium
        author: tests
        created: 2026-12-01
        modified: 2026-12-02
        references: []
        tags: {{tags}}
        threats: [stolen-key-other-network]
        source: activity
        schedule: {every: 5m, lookback: 5m}
        detect:
          kind: threshold
          where: {{Quote(where)}}
          by: [key_id]
          window: 5m
          aggregate:
            {{aggregate}}
          condition: {{Quote(condition)}}
        entities: {key: key_id}
        output:
          title: "{{title}}"
          summary: "Key {key_id} failed {failures} times."
        false_positives: [A deployment using a rotated key.]
        tests: []
        """;

    /// <summary>A YAML single-quoted scalar, so expressions with double quotes and colons stay intact.</summary>
    public static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
