using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace KeyAbuseContent.Tests.Support;

/// <summary>A Microsoft Sentinel connector call a playbook made (a comment on the incident, ...).</summary>
internal sealed record ConnectorCall(string Path, JsonNode? Body);

/// <summary>
/// Runs a Logic App workflow definition of the bundle in process, for the playbook tests: the subset of the
/// Workflow Definition Language the pack's playbooks use (InitializeVariable, Compose, Http with its retry policy,
/// If, Switch, ApiConnection; runAfter; expressions with <c>@</c> and <c>@{...}</c> and the functions listed in
/// <see cref="Call"/>). Http goes through the given client, so a test routes Key Vault and Log Analytics to fakes and
/// the providers to <c>LocalProviders</c>; retries are immediate (no timing in tests). A construct outside the
/// subset throws, so a playbook that grows beyond it fails its tests loudly instead of passing untested.
/// </summary>
internal sealed class LocalLogicApp(JsonObject definition, IReadOnlyDictionary<string, JsonNode?> parameters, HttpClient http)
{
    private readonly Dictionary<string, JsonNode?> _variables = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (string Status, JsonNode? Outputs)> _results = new(StringComparer.Ordinal);
    private JsonNode? _trigger;

    /// <summary>The connector calls the run made, in order.</summary>
    public List<ConnectorCall> ConnectorCalls { get; } = [];

    /// <summary>Every action's status (Succeeded, Failed, Skipped) after the run, nested ones included.</summary>
    public IReadOnlyDictionary<string, string> Statuses => _results.ToDictionary(r => r.Key, r => r.Value.Status, StringComparer.Ordinal);

    /// <summary>Every HTTP attempt, retries included, as method and URI.</summary>
    public List<string> HttpAttempts { get; } = [];

    public async Task<string> RunAsync(JsonNode triggerBody)
    {
        _trigger = triggerBody;
        return await RunScopeAsync(definition["actions"]!.AsObject()).ConfigureAwait(false);
    }

    /// <summary>Runs a scope's actions in runAfter order; the scope failed when one of its actions failed.</summary>
    private async Task<string> RunScopeAsync(JsonObject actions)
    {
        var pending = actions.Select(a => a.Key).ToList();
        var failed = false;
        while (pending.Count > 0)
        {
            var ready = pending.FirstOrDefault(name => RunAfter(actions[name]!).All(p => _results.ContainsKey(p.Action)))
                ?? throw new InvalidOperationException("runAfter names an action outside the scope or a cycle: " + string.Join(", ", pending));
            pending.Remove(ready);
            var action = actions[ready]!.AsObject();
            var runs = RunAfter(action).All(p => p.Statuses.Contains(_results[p.Action].Status, StringComparer.Ordinal));
            if (!runs)
            {
                _results[ready] = ("Skipped", null);
                continue;
            }
            var (status, outputs) = await RunActionAsync(action).ConfigureAwait(false);
            _results[ready] = (status, outputs);
            failed |= status == "Failed";
        }
        return failed ? "Failed" : "Succeeded";
    }

    private static IEnumerable<(string Action, string[] Statuses)> RunAfter(JsonNode action) =>
        action["runAfter"]?.AsObject().Select(p => (p.Key, p.Value!.AsArray().Select(s => (string)s!).ToArray())) ?? [];

    private async Task<(string Status, JsonNode? Outputs)> RunActionAsync(JsonObject action)
    {
        try
        {
            switch ((string)action["type"]!)
            {
                case "InitializeVariable":
                    foreach (var v in action["inputs"]!["variables"]!.AsArray())
                    {
                        _variables[(string)v!["name"]!] = Evaluate(v["value"]);
                    }
                    return ("Succeeded", null);
                case "Compose":
                    return ("Succeeded", Evaluate(action["inputs"]));
                case "Http":
                    return await HttpAsync(action).ConfigureAwait(false);
                case "ApiConnection":
                    var inputs = Evaluate(action["inputs"])!;
                    ConnectorCalls.Add(new ConnectorCall((string)inputs["path"]!, inputs["body"]?.DeepClone()));
                    return ("Succeeded", new JsonObject { ["statusCode"] = 200 });
                case "If":
                    var branch = Condition(action["expression"]!) ? action["actions"] : action["else"]?["actions"];
                    return (await RunScopeAsync(branch?.AsObject() ?? []).ConfigureAwait(false), null);
                case "Switch":
                    var value = Text(Evaluate(action["expression"]));
                    var chosen = action["cases"]!.AsObject().Select(c => c.Value!).FirstOrDefault(c => Text(Evaluate(c["case"])) == value);
                    return (await RunScopeAsync((chosen ?? action["default"])?["actions"]?.AsObject() ?? []).ConfigureAwait(false), null);
                default:
                    throw new NotSupportedException("action type " + action["type"]);
            }
        }
        catch (ExpressionException)
        {
            return ("Failed", null);
        }
    }

    private async Task<(string Status, JsonNode? Outputs)> HttpAsync(JsonObject action)
    {
        var inputs = Evaluate(action["inputs"])!.AsObject();
        // Logic Apps' default policy, and the exponential one the playbooks set: retry 408, 429, 5xx and failed connections.
        var retries = (string?)inputs["retryPolicy"]?["type"] == "none" ? 0 : (int?)inputs["retryPolicy"]?["count"] ?? 4;
        JsonObject outputs = [];
        for (var attempt = 0; attempt <= retries; attempt++)
        {
            using var request = new HttpRequestMessage(new HttpMethod((string)inputs["method"]!), (string)inputs["uri"]!);
            foreach (var (name, value) in inputs["headers"]?.AsObject() ?? [])
            {
                if (!name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    request.Headers.TryAddWithoutValidation(name, Text(value));
                }
            }
            if (inputs["body"] is { } body)
            {
                request.Content = new StringContent(body is JsonValue v && v.TryGetValue<string>(out var s) ? s : body.ToJsonString(), Encoding.UTF8);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            HttpAttempts.Add($"{request.Method} {request.RequestUri}");
            int status;
            string text;
            try
            {
                using var response = await http.SendAsync(request).ConfigureAwait(false);
                status = (int)response.StatusCode;
                text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            }
            catch (HttpRequestException)
            {
                status = 0;
                text = "";
            }
            JsonNode? parsed;
            try
            {
                parsed = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                parsed = JsonValue.Create(text);
            }
            outputs = new JsonObject { ["statusCode"] = status, ["body"] = parsed };
            if (status is > 0 and < 400)
            {
                return ("Succeeded", outputs);
            }
            if (status is not (0 or 408 or 429 or >= 500))
            {
                break;
            }
        }
        return ("Failed", outputs);
    }

    private bool Condition(JsonNode node)
    {
        var (op, args) = node.AsObject().Single();
        return op switch
        {
            "and" => args!.AsArray().All(a => Condition(a!)),
            "or" => args!.AsArray().Any(a => Condition(a!)),
            "not" => !Condition(args!),
            "equals" => JsonNode.DeepEquals(Evaluate(args![0]), Evaluate(args[1])),
            "contains" => Contains(Evaluate(args![0]), Evaluate(args[1])),
            _ => throw new NotSupportedException("condition " + op),
        };
    }

    /// <summary>Evaluates every string of a JSON value: <c>@expr</c> to its value, <c>@{expr}</c> interpolated, <c>@@</c> a literal @.</summary>
    public JsonNode? Evaluate(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Evaluate(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Evaluate)]),
        JsonValue v when v.TryGetValue<string>(out var s) => EvaluateString(s),
        _ => node?.DeepClone(),
    };

    private JsonNode? EvaluateString(string s)
    {
        if (s.StartsWith("@@", StringComparison.Ordinal))
        {
            return JsonValue.Create(s[1..]);
        }
        if (s.StartsWith('@') && !s.StartsWith("@{", StringComparison.Ordinal))
        {
            var parser = new Parser(s, 1, this);
            var value = parser.Expression();
            parser.End();
            return value;
        }
        if (!s.Contains("@{", StringComparison.Ordinal))
        {
            return JsonValue.Create(s);
        }
        var text = new StringBuilder();
        var i = 0;
        while (i < s.Length)
        {
            var at = s.IndexOf("@{", i, StringComparison.Ordinal);
            if (at < 0)
            {
                text.Append(s, i, s.Length - i);
                break;
            }
            text.Append(s, i, at - i);
            var parser = new Parser(s, at + 2, this);
            text.Append(Text(parser.Expression()));
            i = parser.Close('}');
        }
        return JsonValue.Create(text.ToString());
    }

    /// <summary>A value as interpolation writes it: strings as they are, null empty, the rest as JSON.</summary>
    private static string Text(JsonNode? v) => v switch
    {
        null => "",
        JsonValue s when s.TryGetValue<string>(out var t) => t,
        JsonValue b when b.TryGetValue<bool>(out var f) => f ? "True" : "False",
        _ => v.ToJsonString(),
    };

    private static bool Contains(JsonNode? collection, JsonNode? item) => collection switch
    {
        JsonArray a => a.Any(x => JsonNode.DeepEquals(x, item)),
        JsonObject o => o.ContainsKey(Text(item)),
        _ => Text(collection).Contains(Text(item), StringComparison.Ordinal),
    };

    private static bool Empty(JsonNode? v) => v switch
    {
        null => true,
        JsonArray a => a.Count == 0,
        JsonObject o => o.Count == 0,
        JsonValue s when s.TryGetValue<string>(out var t) => t.Length == 0,
        _ => false,
    };

    private JsonNode? Result(string action, Func<JsonNode?, JsonNode?> select) =>
        _results.TryGetValue(action, out var r) ? select(r.Outputs)?.DeepClone() : throw new ExpressionException($"action '{action}' has not run");

    /// <summary>The functions of the language the playbooks call; an unknown one fails the test.</summary>
    private JsonNode? Call(string name, List<JsonNode?> a) => name switch
    {
        "variables" => _variables.TryGetValue(Text(a[0]), out var v) ? v?.DeepClone() : throw new ExpressionException("no variable " + Text(a[0])),
        "parameters" => parameters.TryGetValue(Text(a[0]), out var p) ? p?.DeepClone() : throw new ExpressionException("no parameter " + Text(a[0])),
        "triggerBody" => _trigger?.DeepClone(),
        "body" => Result(Text(a[0]), o => o is JsonObject h && h.ContainsKey("statusCode") ? h["body"] : o),
        "outputs" => Result(Text(a[0]), o => o),
        "actions" => _results.TryGetValue(Text(a[0]), out var r) ? new JsonObject { ["status"] = r.Status, ["outputs"] = r.Outputs?.DeepClone() } : null,
        "json" => a[0] is JsonValue j && j.TryGetValue<string>(out var js) ? JsonNode.Parse(js) : a[0]?.DeepClone(),
        "string" => JsonValue.Create(Text(a[0])),
        "coalesce" => a.FirstOrDefault(x => x is not null)?.DeepClone(),
        "first" => a[0] switch { JsonArray arr => arr.FirstOrDefault()?.DeepClone(), null => null, var s => JsonValue.Create(Text(s)[..1]) },
        "last" => a[0] switch { JsonArray arr => arr.LastOrDefault()?.DeepClone(), null => null, var s => JsonValue.Create(Text(s)[^1..]) },
        "split" => new JsonArray([.. Text(a[0]).Split(Text(a[1])).Select(x => (JsonNode?)JsonValue.Create(x))]),
        "concat" => JsonValue.Create(string.Concat(a.Select(Text))),
        "replace" => JsonValue.Create(Text(a[0]).Replace(Text(a[1]), Text(a[2]), StringComparison.Ordinal)),
        "toLower" => JsonValue.Create(Text(a[0]).ToLowerInvariant()),
        "trim" => JsonValue.Create(Text(a[0]).Trim()),
        "encodeUriComponent" => JsonValue.Create(Uri.EscapeDataString(Text(a[0]))),
        "equals" => JsonValue.Create(JsonNode.DeepEquals(a[0], a[1])),
        "contains" => JsonValue.Create(Contains(a[0], a[1])),
        "empty" => JsonValue.Create(Empty(a[0])),
        "not" => JsonValue.Create(!(bool)a[0]!),
        "and" => JsonValue.Create(a.All(x => (bool)x!)),
        "or" => JsonValue.Create(a.Any(x => (bool)x!)),
        "if" => (bool)a[0]! ? a[1]?.DeepClone() : a[2]?.DeepClone(),
        "int" => long.TryParse(Text(a[0]), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : throw new ExpressionException("int of " + Text(a[0])),
        "float" => double.TryParse(Text(a[0]), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d) : throw new ExpressionException("float of " + Text(a[0])),
        "removeProperty" => a[0] is JsonObject o ? RemoveProperty(o, Text(a[1])) : throw new ExpressionException("removeProperty of a non-object"),
        _ => throw new NotSupportedException("function " + name),
    };

    private static JsonObject RemoveProperty(JsonObject o, string name)
    {
        var copy = o.DeepClone().AsObject();
        copy.Remove(name);
        return copy;
    }

    /// <summary>An expression the run cannot evaluate: the action fails, as in Logic Apps.</summary>
    private sealed class ExpressionException(string message) : Exception(message);

    /// <summary>Recursive descent over an expression: literals, calls, and <c>[...]</c> / <c>?[...]</c> / <c>.name</c> access.</summary>
    private sealed class Parser(string text, int position, LocalLogicApp app)
    {
        private int _i = position;

        public JsonNode? Expression()
        {
            var value = Primary();
            while (true)
            {
                Skip();
                var optional = Peek('?');
                if (optional)
                {
                    _i++;
                }
                if (Peek('['))
                {
                    _i++;
                    var index = Expression();
                    Close(']');
                    value = Index(value, index, optional);
                }
                else if (Peek('.'))
                {
                    _i++;
                    value = Index(value, JsonValue.Create(Identifier()), optional);
                }
                else if (optional)
                {
                    throw new FormatException($"'?' without an index at {_i} in {text}");
                }
                else
                {
                    return value;
                }
            }
        }

        private static JsonNode? Index(JsonNode? value, JsonNode? index, bool optional)
        {
            switch (value)
            {
                case null when optional:
                    return null;
                case JsonObject o:
                    var key = Text(index);
                    var hit = o.FirstOrDefault(p => p.Key.Equals(key, StringComparison.OrdinalIgnoreCase));
                    return hit.Key is not null ? hit.Value?.DeepClone() : optional ? null : throw new ExpressionException($"property '{key}' does not exist");
                case JsonArray a when index is JsonValue n && n.TryGetValue<long>(out var i):
                    return i >= 0 && i < a.Count ? a[(int)i]?.DeepClone() : optional ? null : throw new ExpressionException($"index {i} is outside the array");
                default:
                    throw new ExpressionException($"cannot index {value?.ToJsonString() ?? "null"} with {index?.ToJsonString()}");
            }
        }

        private JsonNode? Primary()
        {
            Skip();
            if (Peek('\''))
            {
                var s = new StringBuilder();
                _i++;
                while (true)
                {
                    if (_i >= text.Length)
                    {
                        throw new FormatException("unterminated string in " + text);
                    }
                    if (text[_i] == '\'')
                    {
                        if (_i + 1 < text.Length && text[_i + 1] == '\'')
                        {
                            s.Append('\'');
                            _i += 2;
                            continue;
                        }
                        _i++;
                        return JsonValue.Create(s.ToString());
                    }
                    s.Append(text[_i++]);
                }
            }
            if (_i < text.Length && (char.IsDigit(text[_i]) || text[_i] == '-'))
            {
                var start = _i++;
                while (_i < text.Length && (char.IsDigit(text[_i]) || text[_i] == '.'))
                {
                    _i++;
                }
                var number = text[start.._i];
                return number.Contains('.', StringComparison.Ordinal)
                    ? JsonValue.Create(double.Parse(number, CultureInfo.InvariantCulture))
                    : JsonValue.Create(long.Parse(number, CultureInfo.InvariantCulture));
            }
            var name = Identifier();
            switch (name)
            {
                case "null":
                    return null;
                case "true":
                    return JsonValue.Create(true);
                case "false":
                    return JsonValue.Create(false);
            }
            Close('(');
            var args = new List<JsonNode?>();
            Skip();
            if (Peek(')'))
            {
                _i++;
                return app.Call(name, args);
            }
            while (true)
            {
                args.Add(Expression());
                Skip();
                if (Peek(','))
                {
                    _i++;
                    continue;
                }
                Close(')');
                return app.Call(name, args);
            }
        }

        private string Identifier()
        {
            Skip();
            var start = _i;
            while (_i < text.Length && (char.IsLetterOrDigit(text[_i]) || text[_i] is '_' or '$'))
            {
                _i++;
            }
            return _i > start ? text[start.._i] : throw new FormatException($"expected a name at {start} in {text}");
        }

        private void Skip()
        {
            while (_i < text.Length && char.IsWhiteSpace(text[_i]))
            {
                _i++;
            }
        }

        private bool Peek(char c) => _i < text.Length && text[_i] == c;

        /// <summary>Consumes a closing character and returns the position after it.</summary>
        public int Close(char c)
        {
            Skip();
            if (!Peek(c))
            {
                throw new FormatException($"expected '{c}' at {_i} in {text}");
            }
            return ++_i;
        }

        public void End()
        {
            Skip();
            if (_i != text.Length)
            {
                throw new FormatException($"unexpected text at {_i} in {text}");
            }
        }
    }
}
