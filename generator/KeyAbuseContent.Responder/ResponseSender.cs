using System.Net;
using System.Net.Http.Headers;
using System.Text;
using KeyAbuseContent.Response;
using Microsoft.Extensions.Logging;

namespace KeyAbuseContent.Responder;

/// <summary>
/// Sends response requests and records each as an action. 429 and 5xx answers (and connection failures) are
/// retried with exponential backoff, honouring Retry-After, up to the configured attempts; any other 4xx is not
/// retried (the same request would fail again) and is reported with the provider's answer. Nothing is dropped.
/// </summary>
public sealed class ResponseSender(HttpClient http, ResponderSettings settings, TimeProvider time, ActionLog log, ILogger logger)
{
    /// <summary>Where a request goes and the secret it authenticates with.</summary>
    public sealed record Destination(Uri Url, string? Secret, string? SigningSecret = null);

    public async Task<ActionRecord> SendAsync(string action, ResponseRequest request, Destination destination, string? rule, string? keyId, CancellationToken cancellationToken)
    {
        var url = request.Path.Length == 0 ? destination.Url : new Uri(destination.Url.ToString().TrimEnd('/') + request.Path);
        int? status = null;
        var detail = "";
        var attempt = 0;
        while (true)
        {
            attempt++;
            TimeSpan? retryAfter = null;
            try
            {
                using var message = Build(request, url, destination);
                using var response = await http.SendAsync(message, cancellationToken).ConfigureAwait(false);
                status = (int)response.StatusCode;
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                detail = body.Length > 500 ? body[..500] : body;
                if (response.IsSuccessStatusCode)
                {
                    return Record(action, rule, keyId, "ok", status, attempt, detail);
                }
                if (!Retryable(response.StatusCode))
                {
                    ResponderLog.NotRetried(logger, action, keyId, status, detail);
                    return Record(action, rule, keyId, "failed", status, attempt, detail);
                }
                retryAfter = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } date ? date - time.GetUtcNow() : null);
            }
            catch (HttpRequestException e)
            {
                status = null;
                detail = e.Message;
            }
            if (attempt >= settings.MaxAttempts)
            {
                ResponderLog.GaveUp(logger, action, keyId, attempt, status, detail);
                return Record(action, rule, keyId, "failed", status, attempt, $"gave up after {attempt} attempts: {detail}");
            }
            var backoff = retryAfter ?? settings.BaseBackoff * Math.Pow(2, attempt - 1);
            backoff = backoff < TimeSpan.Zero ? TimeSpan.Zero : backoff > settings.MaxBackoff ? settings.MaxBackoff : backoff;
            ResponderLog.Retrying(logger, action, keyId, status, backoff);
            await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Rate limits and server errors (Anthropic's 529 overloaded among them) may pass on a later attempt.</summary>
    public static bool Retryable(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    private HttpRequestMessage Build(ResponseRequest request, Uri url, Destination destination)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), url);
        if (request.Body is not null)
        {
            message.Content = new StringContent(request.Body, Encoding.UTF8);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = null };
        }
        foreach (var (name, value) in request.Headers.Where(h => !h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)))
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        switch (request.Auth)
        {
            case ResponseAuth.Bearer:
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", destination.Secret);
                break;
            case ResponseAuth.ApiKeyHeader:
                message.Headers.TryAddWithoutValidation("x-api-key", destination.Secret);
                break;
        }
        if (destination.SigningSecret is { } signing && request.Body is not null)
        {
            message.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Sign(Encoding.UTF8.GetBytes(signing), request.Body, time.GetUtcNow()));
        }
        return message;
    }

    private ActionRecord Record(string action, string? rule, string? keyId, string outcome, int? status, int attempts, string detail)
    {
        var record = new ActionRecord(time.GetUtcNow(), action, rule, keyId, outcome, status, attempts, detail);
        log.Add(record);
        return record;
    }
}
