using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Engine.Esql;

/// <summary>The rows an ES|QL query returns, and the warnings Elasticsearch would send with them.</summary>
public sealed record EsqlResult(DataTable Table, IReadOnlyList<string> Warnings);
