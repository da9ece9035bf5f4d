using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace KeyAbuseContent.Build;

/// <summary>
/// SHA-256 over what a recorded result depends on (texts length-prefixed, so adjacent texts cannot run into each
/// other): the test results and the response evidence are only trusted while their fingerprint still matches.
/// </summary>
public sealed class ContentHash : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public void Add(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        _hash.AppendData(BitConverter.GetBytes(bytes.Length));
        _hash.AppendData(bytes);
    }

    /// <summary>The builds (module version ids, which deterministic builds derive from the code and its embedded templates).</summary>
    public void AddBuilds(params Assembly[] assemblies)
    {
        foreach (var assembly in assemblies)
        {
            Add(assembly.ManifestModule.ModuleVersionId.ToString());
        }
    }

    /// <summary>A file by its name (relative, as recorded) and its bytes.</summary>
    public void AddFile(string name, string path)
    {
        Add(name);
        _hash.AppendData(File.ReadAllBytes(path));
    }

    /// <summary>The hash as lower-case hex.</summary>
    public string Hex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    public void Dispose() => _hash.Dispose();
}
