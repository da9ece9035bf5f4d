using BenchmarkDotNet.Running;

namespace KeyAbuseContent.Benchmarks;

/// <summary>Runs the benchmarks BenchmarkDotNet's switcher selects: <c>-- --filter '*Esql*'</c>, <c>--list flat</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
