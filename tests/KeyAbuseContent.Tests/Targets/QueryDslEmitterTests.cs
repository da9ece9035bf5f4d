using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Tests.Expressions;

namespace KeyAbuseContent.Tests.Targets;

/// <summary>Transforms filter with the rule's own where, in query DSL, with the language's semantics.</summary>
public class QueryDslEmitterTests
{
    private static string Dsl(string expression) => QueryDslEmitter.Emit(ExpressionTestKit.Bind(expression)).ToJsonString();

    [Fact]
    public void EqualityIsATermQuery() =>
        Assert.Equal("""{"term":{"http.response.status_code":401}}""", Dsl("status == 401"));

    [Fact]
    public void AListIsATermsQuery() =>
        Assert.Equal("""{"terms":{"gen_ai.operation.name":["chat","responses"]}}""", Dsl("operation in (\"chat\", \"responses\")"));

    [Fact]
    public void InequalityLetsAMissingFieldPass() =>
        Assert.Equal("""{"bool":{"must_not":[{"term":{"http.response.status_code":401}}]}}""", Dsl("status != 401"));

    [Fact]
    public void ANegatedOrderingIsInvertedSoAMissingNumberFails() =>
        Assert.Equal("""{"range":{"gen_ai.usage.input_tokens":{"gte":100}}}""", Dsl("not (input_tokens < 100)"));

    [Fact]
    public void ContainsIsACaseInsensitiveWildcardWithItsWildcardsEscaped() =>
        Assert.Equal("""{"wildcard":{"user_agent.original":{"value":"*a\\*b*","case_insensitive":true}}}""", Dsl("user_agent contains \"a*b\""));

    [Fact]
    public void MatchesIsARegexpOverTheWholeValue() =>
        Assert.Equal("""{"regexp":{"user_agent.original":{"value":"curl/.*","flags":"NONE"}}}""", Dsl("user_agent matches \"^curl/\""));

    [Fact]
    public void IsEmptyIsMissingOrBlank() =>
        Assert.Equal("""{"bool":{"should":[{"bool":{"must_not":[{"exists":{"field":"service.name"}}]}},{"term":{"service.name":""}}],"minimum_should_match":1}}""", Dsl("isempty(service)"));

    [Fact]
    public void ArithmeticIsRefused() =>
        Assert.Throws<QueryDslException>(() => Dsl("input_tokens / output_tokens > 3"));
}
