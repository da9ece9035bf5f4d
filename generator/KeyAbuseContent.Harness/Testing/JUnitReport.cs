using System.Globalization;
using System.Xml.Linq;

namespace KeyAbuseContent.Harness.Testing;

/// <summary>Rule test outcomes as JUnit XML, one test case per rule, target and dataset.</summary>
public static class JUnitReport
{
    public static XDocument Of(IReadOnlyList<TestOutcome> outcomes, TimeSpan elapsed)
    {
        var suites = outcomes.GroupBy(o => o.Check).Select(g => new XElement("testsuite",
            new XAttribute("name", "keyabuse." + g.Key),
            new XAttribute("tests", g.Count()),
            new XAttribute("failures", g.Count(o => !o.Passed)),
            g.Select(o => new XElement("testcase",
                new XAttribute("classname", o.Rule),
                new XAttribute("name", $"{o.Check}: {o.Dataset}"),
                o.Passed ? null : new XElement("failure", new XAttribute("message", o.Failures.FirstOrDefault() ?? "failed"), string.Join("\n", o.Failures))))));
        return new XDocument(new XElement("testsuites",
            new XAttribute("tests", outcomes.Count),
            new XAttribute("failures", outcomes.Count(o => !o.Passed)),
            new XAttribute("time", elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)),
            suites));
    }
}
