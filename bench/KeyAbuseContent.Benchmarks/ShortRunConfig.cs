using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;

namespace KeyAbuseContent.Benchmarks;

/// <summary>
/// One process per benchmark, no pilot stage, 2 warm-up and 5 measured runs: the operations take a second or
/// more, so a run of the whole class takes minutes instead of BenchmarkDotNet's default hour. Allocations are reported.
/// </summary>
public class ShortRunConfig : ManualConfig
{
    public ShortRunConfig()
    {
        AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(5)
            .WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
