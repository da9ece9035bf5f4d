namespace KeyAbuseContent.Harness.Simulation;

/// <summary>List prices and streaming speeds of the models the simulator uses (rounded public list prices).</summary>
public static class ModelCatalog
{
    /// <summary>USD per million input and output tokens.</summary>
    public static (double Input, double Output) Price(string model) => model switch
    {
        "gpt-4o" => (2.5, 10),
        "gpt-4o-mini" => (0.15, 0.6),
        "gpt-4.1" => (2, 8),
        "gpt-4.1-mini" => (0.4, 1.6),
        "o1" => (15, 60),
        "text-embedding-3-small" => (0.02, 0),
        "claude-3-5-haiku" => (0.8, 4),
        "claude-sonnet-4" => (3, 15),
        "claude-opus-4" => (15, 75),
        "gemini-2.0-flash" => (0.1, 0.4),
        "gemini-2.5-pro" => (1.25, 10),
        _ => (1, 4),
    };

    /// <summary>The cost of a request in units of 1e-7 USD (what the event writer prints as a decimal).</summary>
    public static long CostUnits(string model, long input, long output)
    {
        var (pin, pout) = Price(model);
        return (long)Math.Round(((input * pin) + (output * pout)) / 1e6 * 1e7);
    }

    /// <summary>The streaming time per output token, in milliseconds.</summary>
    public static double MsPerToken(string model) => model switch
    {
        "gpt-4o-mini" or "gpt-4.1-mini" or "claude-3-5-haiku" or "gemini-2.0-flash" => 7,
        "o1" or "claude-opus-4" => 25,
        _ => 14,
    };

    /// <summary>The most expensive model a provider sells: what a thief reaches for.</summary>
    public static string MostExpensive(string provider) => provider switch
    {
        "anthropic" => "claude-opus-4",
        "vertex" => "gemini-2.5-pro",
        _ => "o1",
    };
}
