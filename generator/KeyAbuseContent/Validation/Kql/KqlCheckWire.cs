using System.Text.Json.Serialization;

namespace KeyAbuseContent.Validation.Kql;

// The JSON that tools/kql-check/check.js reads on stdin and writes on stdout.

internal sealed record KqlCheckRequest(
    IReadOnlyList<KqlTableSchema> Tables,
    IReadOnlyList<KqlFunctionSchema> Functions,
    IReadOnlyList<KqlQueryToCheck> Queries);

internal sealed record KqlCheckResponse(IReadOnlyList<KqlCheckResult>? Results);

internal sealed record KqlCheckResult(string? Id, IReadOnlyList<KqlCheckDiagnostic>? Diagnostics);

internal sealed record KqlCheckDiagnostic(string? Severity, string? Code, string? Message, int Start, int Length);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(KqlCheckRequest))]
[JsonSerializable(typeof(KqlCheckResponse))]
internal sealed partial class KqlCheckJson : JsonSerializerContext;
