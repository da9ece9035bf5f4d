using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace KeyAbuseContent.Benchmarks;

/// <summary>
/// One process per benchmark, no pilot stage, 2 warm-up and 5 measured runs: the operations take a second or
/// more, so a run of the whole class takes minutes instead of BenchmarkDotNet's default hour. Allocations are reported.
/// In process: no generated project to build, which a busy shared machine cannot do within BenchmarkDotNet's timeout;
/// every engine of a class runs in the same process, under the same conditions.
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
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(1), logOutput: true))
            .WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
