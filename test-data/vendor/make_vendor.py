#!/usr/bin/env python3
"""Writes the vendor-format datasets of test-data/vendor/ and test-data/cloud/ (raw/<source>.jsonl).

Every record is typed by us after the record shapes the vendors document (see each README); no vendor
or third-party fixture is copied. Run from the repository root: python3 test-data/vendor/make_vendor.py
"""
import json
import os
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.abspath(__file__))
TEST_DATA = os.path.dirname(ROOT)
ACCOUNT = "111122223333"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write(folder, source, records):
    path = os.path.join(TEST_DATA, folder, "raw")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, source + ".jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def write_json(folder, name, value):
    with open(os.path.join(TEST_DATA, folder, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(value, indent=2) + "\n")


_event = [0]


def trail(t, source, name, who, ip, agent, params=None, response=None, error=None, region="us-east-1", read_only=True, extra=None):
    """A CloudTrail record (AWS CloudTrail User Guide, 'CloudTrail record contents for management events')."""
    _event[0] += 1
    n = _event[0]
    r = {
        "eventVersion": "1.10",
        "userIdentity": who,
        "eventTime": iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": params,
        "responseElements": response,
        "requestID": f"7e2c1f0a-0000-4000-8000-{n:012d}",
        "eventID": f"c0ffee00-0000-4000-8000-{n:012d}",
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": ("bedrock-runtime" if name.startswith(("Invoke", "Converse")) else source.split(".")[0]) + f".{region}.amazonaws.com"},
    }
    if error:
        r["errorCode"], r["errorMessage"] = error
    if extra:
        r.update(extra)
    return r


def iam_user(name, key):
    return {"type": "IAMUser", "principalId": "AIDA" + name.upper().replace("-", "")[:12].ljust(12, "X") + "EXMPL",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "accountId": ACCOUNT, "accessKeyId": key, "userName": name}


def assumed_role(role, session, key):
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLEROLEID0001:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}", "accountId": ACCOUNT, "accessKeyId": key,
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLEID0001",
                                                 "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "accountId": ACCOUNT, "userName": role},
                               "attributes": {"creationDate": "2026-11-20T00:00:00Z", "mfaAuthenticated": "false"}}}


BOTO = "Boto3/1.35.76 md/Botocore#1.35.76 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.7 cfg/retry-mode#standard Botocore/1.35.76"
OLD_BOTO = "Boto3/1.26.0 Python/3.8.10 Linux/5.4.0-1045-aws Botocore/1.29.0"
OPUS = "anthropic.claude-3-opus-20240229-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
RUNTIME = "bedrock.amazonaws.com"
INVOKE_RESPONSE = None  # InvokeModel's responseElements are null in CloudTrail (bodies are not logged)

VICTIM_KEY = "AKIAEXAMPLE0VICTIM01"
VICTIM = iam_user("ci-deployer", VICTIM_KEY)
CI_IP = "198.51.100.20"
ATTACKER_IP = "203.0.113.66"


def ci_traffic(day, count, every_minutes, who=VICTIM, ip=CI_IP, start_hour=0):
    """The key's own use: a CI job invoking Haiku from the company's egress address."""
    t = day + timedelta(hours=start_hour, minutes=7)
    out = []
    for _ in range(count):
        out.append(trail(t, RUNTIME, "InvokeModel", who, ip, BOTO, {"modelId": HAIKU}, INVOKE_RESPONSE))
        t += timedelta(minutes=every_minutes)
    return out


def llmjacking():
    """A stolen CI key: recon of Bedrock, model-access requests, invalid-parameter probes, then heavy use of Opus."""
    day = datetime(2026, 11, 20, tzinfo=timezone.utc)
    records = ci_traffic(day, 12, 30)
    t = day + timedelta(hours=3, minutes=10, seconds=12)
    steps = [
        (0, "sts.amazonaws.com", "GetCallerIdentity", None, None, None),
        (53, RUNTIME, "GetModelInvocationLoggingConfiguration", None, {"loggingConfig": None}, None),
        (35, RUNTIME, "ListFoundationModels", None, None, None),
        (35, RUNTIME, "GetFoundationModelAvailability", {"modelId": OPUS}, None, None),
        (47, RUNTIME, "PutUseCaseForModelAccess", {"formData": "***"}, None, None),
        (28, RUNTIME, "CreateFoundationModelAgreement", {"offerToken": "***", "modelId": OPUS}, {"modelId": OPUS}, None),
    ]
    for gap, source, name, params, response, error in steps:
        t += timedelta(seconds=gap)
        records.append(trail(t, source, name, VICTIM, ATTACKER_IP, OLD_BOTO, params, response, error,
                             read_only=name.startswith(("Get", "List"))))
    # Probes: a negative max_tokens costs nothing and still tells whether the key may call the model.
    for model in (OPUS, OPUS, SONNET):
        t += timedelta(seconds=20)
        records.append(trail(t, RUNTIME, "InvokeModel", VICTIM, ATTACKER_IP, OLD_BOTO, {"modelId": model}, None,
                             ("ValidationException", "max_tokens: range: 1..4096")))
    t = day + timedelta(hours=3, minutes=16)
    for i in range(16):
        name = "InvokeModelWithResponseStream" if i % 4 == 3 else "InvokeModel"
        records.append(trail(t, RUNTIME, name, VICTIM, ATTACKER_IP, OLD_BOTO, {"modelId": OPUS}, None))
        t += timedelta(seconds=90)
    records.sort(key=lambda r: r["eventTime"])
    write("cloud/bedrock-llmjacking", "bedrock_cloudtrail", records)
    write_json("cloud/bedrock-llmjacking", "labels.json", [
        {"scenario": "llmjacking", "key_id": VICTIM_KEY, "start": "2026-11-20T03:10:12Z", "end": iso(t - timedelta(seconds=90))}])


def onboarding():
    """The benign twin: an administrator enables a model (same recon, one mistyped test call), CI invokes heavily."""
    day = datetime(2026, 11, 21, tzinfo=timezone.utc)
    admin = iam_user("platform-admin", "AKIAEXAMPLE0ADMIN001")
    console = "AWS Internal"
    corp = "198.51.100.7"
    records = []
    t = day + timedelta(hours=9, minutes=30)
    for gap, name, params in [
        (0, "GetModelInvocationLoggingConfiguration", None),
        (40, "ListFoundationModels", None),
        (30, "GetFoundationModelAvailability", {"modelId": SONNET}),
        (60, "PutUseCaseForModelAccess", {"formData": "***"}),
        (45, "CreateFoundationModelAgreement", {"offerToken": "***", "modelId": SONNET}),
    ]:
        t += timedelta(seconds=gap)
        records.append(trail(t, RUNTIME, name, admin, corp, console, params, None, None, read_only=name.startswith(("Get", "List"))))
    t += timedelta(minutes=3)
    records.append(trail(t, RUNTIME, "InvokeModel", admin, corp, console, {"modelId": SONNET}, None, ("ValidationException", "temperature: range: 0..1")))
    for _ in range(2):
        t += timedelta(minutes=1)
        records.append(trail(t, RUNTIME, "InvokeModel", admin, corp, console, {"modelId": SONNET}, None))
    # CI moves to the new model: heavy, but never after recon from its own address.
    ci = assumed_role("bedrock-ci", "gh-run-4821", "ASIAEXAMPLE0CIRUN001")
    records += ci_traffic(day, 30, 2, who=ci, start_hour=10)
    records.sort(key=lambda r: r["eventTime"])
    write("cloud/bedrock-model-onboarding", "bedrock_cloudtrail", records)


def cloudtrail_shapes():
    """One record of each shape the control-plane parser meets."""
    day = datetime(2026, 11, 22, 8, tzinfo=timezone.utc)
    dev = iam_user("dana", "AKIAEXAMPLE0DANA0001")
    role = assumed_role("chat-service", "i-0abc12345def67890", "ASIAEXAMPLE0CHATSVC1")
    records = [
        trail(day, RUNTIME, "ListFoundationModels", dev, "198.51.100.7", BOTO),
        trail(day + timedelta(minutes=1), RUNTIME, "InvokeModel", role, "198.51.100.30", BOTO, {"modelId": SONNET}, None,
              extra={"additionalEventData": {"inferenceRegion": "us-west-2"}}),
        trail(day + timedelta(minutes=2), RUNTIME, "Converse", role, "198.51.100.30", BOTO, {"modelId": "us.anthropic.claude-3-5-sonnet-20240620-v1:0"}),
        trail(day + timedelta(minutes=3), RUNTIME, "ConverseStream", role, "198.51.100.30", BOTO, {"modelId": HAIKU}, None,
              ("ThrottlingException", "Too many requests, please wait before trying again.")),
        trail(day + timedelta(minutes=4), RUNTIME, "InvokeModel", dev, "198.51.100.7", BOTO, {"modelId": OPUS}, None,
              ("AccessDeniedException", "You don't have access to the model with the specified model ID.")),
        trail(day + timedelta(minutes=5), "iam.amazonaws.com", "CreateServiceSpecificCredential", dev, "198.51.100.7", BOTO,
              {"userName": "dana", "serviceName": "bedrock.amazonaws.com", "credentialAgeDays": 30},
              {"serviceSpecificCredential": {"createDate": "Nov 22, 2026 8:05:00 AM", "serviceName": "bedrock.amazonaws.com",
                                             "serviceUserName": "dana-at-111122223333", "serviceSpecificCredentialId": "ACCAEXAMPLE0DANA0001",
                                             "userName": "dana", "status": "Active"}}, read_only=False),
        trail(day + timedelta(minutes=6), "bedrock-mantle.amazonaws.com", "CreateChatCompletion", dev, "198.51.100.7", "OpenAI/Python 1.54.0",
              {"model": "openai.gpt-oss-120b-1:0"}, None,
              extra={"userIdentity": dict(dev, accessKeyId="ABIAEXAMPLE0DANA0001")}),
        trail(day + timedelta(minutes=7), RUNTIME, "GetModelInvocationLoggingConfiguration", dev, "198.51.100.7", BOTO),
    ]
    write("vendor/bedrock_cloudtrail", "bedrock_cloudtrail", records)


def invocation(t, who, model, operation, tokens_in, tokens_out, n, error=None):
    """A model invocation log record (Amazon Bedrock User Guide, 'Monitor model invocation using CloudWatch Logs')."""
    r = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": iso(t),
        "accountId": ACCOUNT,
        "identity": {"arn": who},
        "region": "us-east-1",
        "requestId": f"5d1e2f3a-0000-4000-9000-{n:012d}",
        "operation": operation,
        "modelId": model,
    }
    if error:
        r["errorCode"] = error
    else:
        r["input"] = {"inputContentType": "application/json", "inputTokenCount": tokens_in}
        r["output"] = {"outputContentType": "application/json", "outputTokenCount": tokens_out}
    return r


def bedrock_invocations():
    """Normal use by a service role, then a burst of refused calls by a developer's role (which the auth rule catches)."""
    day = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    svc = f"arn:aws:sts::{ACCOUNT}:assumed-role/chat-service/i-0abc12345def67890"
    dev = f"arn:aws:sts::{ACCOUNT}:assumed-role/dev-sandbox/alex"
    records = []
    n = 0
    for i in range(10):
        n += 1
        op = ["InvokeModel", "Converse", "ConverseStream", "InvokeModelWithResponseStream"][i % 4]
        records.append(invocation(day + timedelta(minutes=3 * i), svc, SONNET, op, 800 + 37 * i, 150 + 11 * i, n))
    n += 1
    records.append(invocation(day + timedelta(minutes=31), svc, SONNET, "Converse", 0, 0, n, error="ThrottlingException"))
    for i in range(22):
        n += 1
        records.append(invocation(day + timedelta(minutes=40, seconds=5 + 10 * i), dev, OPUS, "InvokeModel", 0, 0, n, error="AccessDeniedException"))
    write("vendor/bedrock_invocation", "bedrock_invocation", records)


def epoch(t):
    return (t - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()


def litellm_payload(t, n, key_hash, alias, team, model, provider, call_type, tokens_in, tokens_out, ip, error_code=None):
    """A LiteLLM StandardLoggingPayload (litellm/types/utils.py), prompts and responses left out."""
    failed = error_code is not None
    return {
        "id": f"chatcmpl-7f3a{n:08d}",
        "trace_id": f"4b1c2d3e-0000-4000-a000-{n:012d}",
        "call_type": call_type,
        "stream": False,
        "response_cost": 0.0 if failed else round(tokens_in * 0.15e-6 + tokens_out * 0.6e-6, 8),
        "status": "failure" if failed else "success",
        "custom_llm_provider": provider,
        "prompt_tokens": 0 if failed else tokens_in,
        "completion_tokens": 0 if failed else tokens_out,
        "total_tokens": 0 if failed else tokens_in + tokens_out,
        "startTime": epoch(t),
        "endTime": epoch(t) + 1.25,
        "completionStartTime": epoch(t) + 0.4,
        "model": model,
        "model_group": model,
        "model_id": "deploy-" + model,
        "api_base": "https://api.openai.com/v1" if provider == "openai" else "https://example-resource.openai.azure.com",
        "metadata": {
            "user_api_key_hash": key_hash,
            "user_api_key_alias": alias,
            "user_api_key_team_id": "team-" + team,
            "user_api_key_team_alias": team,
            "user_api_key_request_route": "/v1/embeddings" if "embedding" in call_type else "/chat/completions",
            "requester_ip_address": ip,
        },
        "cache_hit": None,
        "request_tags": [],
        "end_user": "",
        "requester_ip_address": ip,
        "error_str": "litellm.AuthenticationError: OpenAIException - Incorrect API key provided" if failed else None,
        "error_information": {"error_code": error_code, "error_class": "AuthenticationError", "llm_provider": provider,
                              "error_message": "Incorrect API key provided"} if failed else None,
        "model_parameters": {"temperature": 0.2},
        "hidden_params": {"litellm_model_name": model, "response_cost": None},
    }


def litellm():
    """A proxy's traffic: chat and embeddings of two virtual keys, then the upstream key revoked: every call 401."""
    day = datetime(2026, 11, 24, 14, tzinfo=timezone.utc)
    chat = "88d1f0c2b7a64e31a9d2c5b8e7f60a1d3c4b5a69788f7e6d5c4b3a2910fedcba"
    embed = "1f2e3d4c5b6a79881726354453627180a9b8c7d6e5f40312a1b2c3d4e5f60718"
    records = []
    n = 0
    for i in range(8):
        n += 1
        records.append(litellm_payload(day + timedelta(minutes=2 * i), n, chat, "support-bot", "support", "gpt-4o-mini", "openai", "acompletion", 900 + 10 * i, 120 + 3 * i, "10.20.0.14"))
        n += 1
        records.append(litellm_payload(day + timedelta(minutes=2 * i, seconds=30), n, embed, "search-indexer", "search", "text-embedding-3-small", "openai", "aembedding", 512, 0, "10.20.0.31"))
    for i in range(21):
        n += 1
        records.append(litellm_payload(day + timedelta(minutes=20, seconds=5 + 9 * i), n, chat, "support-bot", "support", "gpt-4o-mini", "openai", "acompletion", 0, 0, "10.20.0.14", error_code="401"))
    write("vendor/litellm", "litellm", records)


def attr(key, value):
    if isinstance(value, bool):
        v = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    else:
        v = {"stringValue": value}
    return {"key": key, "value": v}


def otlp_span(t, n, model, tokens_in, tokens_out, key, old_names=False, error=None, ip=None):
    """A GenAI inference client span (semantic conventions gen-ai-spans), as the OTLP/JSON encoding writes it."""
    start = int(epoch(t) * 1000) * 1_000_000
    attrs = [attr("gen_ai.operation.name", "chat"), attr("llm.api_key.id", key)]
    if old_names:
        attrs += [attr("gen_ai.system", "openai"), attr("gen_ai.request.model", model),
                  attr("gen_ai.usage.prompt_tokens", tokens_in), attr("gen_ai.usage.completion_tokens", tokens_out)]
    else:
        attrs += [attr("gen_ai.provider.name", "openai"), attr("gen_ai.request.model", model), attr("gen_ai.response.model", model + "-2024-07-18"),
                  attr("gen_ai.usage.input_tokens", tokens_in), attr("gen_ai.usage.output_tokens", tokens_out),
                  attr("server.address", "api.openai.com"), attr("server.port", 443)]
    if ip:
        attrs.append(attr("client.address", ip))
    if error:
        attrs.append(attr("error.type", error))
    return {"traceId": f"5b8efff798038103d269b6338{n:07x}", "spanId": f"eee19b7ec3c{n:05x}", "name": f"chat {model}", "kind": 3,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 1_200_000_000),
            "attributes": attrs, "status": {"code": 2, "message": error} if error else {"code": 0}}


def otel():
    """A chatbot's spans, one export request a line: its declared model, old attribute names, an error, then a model it never declared."""
    day = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
    key = "svc-bot-prod"
    lines = []
    n = 0
    for batch in range(4):
        spans = []
        for i in range(3):
            n += 1
            t = day + timedelta(minutes=10 * batch + 2 * i)
            spans.append(otlp_span(t, n, "gpt-4o-mini", 1200 + 40 * n, 180 + 5 * n, key, old_names=(batch == 1), error=("429" if (batch, i) == (2, 2) else None), ip="198.51.100.40"))
        lines.append({"resourceSpans": [{"resource": {"attributes": [attr("service.name", "bot"), attr("deployment.environment.name", "prod")]},
                                         "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"}, "spans": spans}]}]})
    n += 1
    lines.append({"resourceSpans": [{"resource": {"attributes": [attr("service.name", "bot")]},
                                     "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2"},
                                                     "spans": [otlp_span(day + timedelta(minutes=47), n, "gpt-4o", 5200, 1900, key, ip="198.51.100.40")]}]}]})
    write("vendor/otel_genai", "otel_genai", lines)
    with open(os.path.join(TEST_DATA, "vendor/otel_genai", "inventory.yaml"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# Key inventory for test-data/vendor/otel_genai (synthetic; see README.md).\n"
                "keys:\n  - id: svc-bot-prod\n    provider: openai\n    owner: sam.lee@example.com\n    team: support\n"
                "    service: bot\n    env: prod\n    created: 2026-06-01\n    expires: 2027-06-01\n"
                "    models: [gpt-4o-mini]\n    operations: [chat]\n")


def openai_audit():
    """OpenAI organization audit log entries (openai-openapi AuditLog): key created, updated, deleted; a login; a key acting."""
    day = datetime(2026, 11, 26, 8, tzinfo=timezone.utc)
    session = {"type": "session", "session": {"user": {"id": "user-abc123", "email": "dana.kim@example.com"}, "ip_address": "198.51.100.7",
                                              "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
                                              "ip_address_details": {"country": "US", "city": "Seattle", "region": "Washington", "region_code": "WA",
                                                                     "asn": "64501", "latitude": "47.6", "longitude": "-122.3"}}}
    project = {"id": "proj_abc123", "name": "search"}
    records = [
        {"id": "audit_log-0001", "type": "login.succeeded", "effective_at": int(epoch(day)), "actor": session},
        {"id": "audit_log-0002", "type": "api_key.created", "effective_at": int(epoch(day + timedelta(minutes=3))), "project": project, "actor": session,
         "api_key.created": {"id": "key_search_prod_02", "data": {"scopes": ["/v1/*"]}}},
        {"id": "audit_log-0003", "type": "api_key.updated", "effective_at": int(epoch(day + timedelta(minutes=9))), "project": project, "actor": session,
         "api_key.updated": {"id": "key_search_prod_02", "changes_requested": {"scopes": ["/v1/embeddings"]}}},
        {"id": "audit_log-0004", "type": "api_key.deleted", "effective_at": int(epoch(day + timedelta(minutes=15))), "project": project,
         "actor": {"type": "api_key", "api_key": {"id": "key_admin_01", "type": "service_account", "service_account": {"id": "svc_acct_rotator"}}},
         "api_key.deleted": {"id": "key_search_prod_01"}},
    ]
    write("vendor/openai_audit", "openai_audit", records)


AZ_SUB = "00000000-1111-2222-3333-444444444444"
AZ_RG = "RG-LLM-PROD"
AZ_ACCOUNT = "contoso-openai-prod"
AZ_APIM = "contoso-apim"


def az_iso(t):
    """Log Analytics writes TimeGenerated with seven fractional digits."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def az_request_response(t, n, operation, deployment, model, ip_masked, status="200", duration=900, object_id=""):
    """An AzureDiagnostics row of Azure OpenAI's RequestResponse category (properties in properties_s, as JSON text)."""
    props = {"apiName": "Azure OpenAI API version 2024-10-21", "requestTime": 0, "requestLength": 412, "responseTime": 0,
             "responseLength": 1280, "objectId": object_id, "streamType": "Non-Streaming",
             "modelDeploymentName": deployment, "modelName": model, "modelVersion": "2024-07-18"}
    return {"TimeGenerated": az_iso(t), "Type": "AzureDiagnostics", "TenantId": "aaaaaaaa-0000-0000-0000-000000000001",
            "ResourceId": f"/SUBSCRIPTIONS/{AZ_SUB}/RESOURCEGROUPS/{AZ_RG}/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/{AZ_ACCOUNT.upper()}",
            "SubscriptionId": AZ_SUB, "ResourceGroup": AZ_RG, "ResourceProvider": "MICROSOFT.COGNITIVESERVICES",
            "Resource": AZ_ACCOUNT.upper(), "ResourceType": "ACCOUNTS", "Category": "RequestResponse", "OperationName": operation,
            "ResultSignature": status, "DurationMs": duration, "CallerIPAddress": ip_masked,
            "CorrelationId": f"5f1c0a2e-0000-4000-8000-{n:012d}", "Level": "Informational", "properties_s": json.dumps(props, separators=(",", ":"))}


def az_audit(t, n, object_id, operation="ListKey"):
    """An AzureDiagnostics row of the account's Audit category: a read of its keys by an Entra principal (properties_s
    holds the objectId; the record carries no caller address)."""
    return {"TimeGenerated": az_iso(t), "Type": "AzureDiagnostics", "TenantId": "aaaaaaaa-0000-0000-0000-000000000001",
            "ResourceId": f"/SUBSCRIPTIONS/{AZ_SUB}/RESOURCEGROUPS/{AZ_RG}/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/{AZ_ACCOUNT.upper()}",
            "SubscriptionId": AZ_SUB, "ResourceGroup": AZ_RG, "ResourceProvider": "MICROSOFT.COGNITIVESERVICES",
            "Resource": AZ_ACCOUNT.upper(), "ResourceType": "ACCOUNTS", "Category": "Audit", "OperationName": operation,
            "CallerIPAddress": "", "CorrelationId": f"7a2e4c91-0000-4000-8000-{n:012d}", "Tenant_s": "eastus",
            "AssetIdentity_g": f"3c0d5b6e-0000-4000-8000-{n:012d}", "properties_s": json.dumps({"objectId": object_id}, separators=(",", ":"))}


def az_gateway(t, n, subscription, product, ip, operation="ChatCompletions_Create", deployment="chat-mini", code=200, total_time=850):
    """An ApiManagementGatewayLogs row (the gateway's request; the subscription whose key called it)."""
    return {"TimeGenerated": az_iso(t), "Type": "ApiManagementGatewayLogs", "ApiId": "azure-openai", "OperationId": operation,
            "ProductId": product, "Method": "POST",
            "Url": f"https://{AZ_APIM}.azure-api.net/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21",
            "ResponseCode": code, "BackendResponseCode": code if code != 401 else 0, "CallerIpAddress": ip, "IsRequestSuccess": code < 400,
            "TotalTime": total_time, "ApimSubscriptionId": subscription, "CorrelationId": f"apim-{n:04d}-7c2d",
            "_ResourceId": f"/subscriptions/{AZ_SUB}/resourcegroups/{AZ_RG.lower()}/providers/microsoft.apimanagement/service/{AZ_APIM}"}


def az_llm(t, n, seq, model, deployment, prompt, completion, stream=False):
    """An ApiManagementGatewayLlmLog row: one a message of the exchange; every row repeats the request's token counts."""
    return {"TimeGenerated": az_iso(t), "Type": "ApiManagementGatewayLlmLog", "CorrelationId": f"apim-{n:04d}-7c2d", "SequenceNumber": seq,
            "ModelName": model, "DeploymentName": deployment, "ApiVersion": "2024-10-21", "IsStreamCompletion": stream,
            "PromptTokens": prompt, "CompletionTokens": completion, "TotalTokens": prompt + completion,
            "RequestId": f"chatcmpl-{n:04d}{seq}", "Region": "East US"}


def az_activity(t, n, operation, caller, ip, status="Success"):
    """An AzureActivity row of a Cognitive Services account action (listKeys/action, regenerateKey/action)."""
    return {"TimeGenerated": az_iso(t), "Type": "AzureActivity", "OperationNameValue": operation,
            "ResourceProviderValue": "MICROSOFT.COGNITIVESERVICES", "ActivityStatusValue": status, "ActivitySubstatusValue": "",
            "CategoryValue": "Administrative", "Caller": caller, "CallerIpAddress": ip, "SubscriptionId": AZ_SUB, "ResourceGroup": AZ_RG,
            "CorrelationId": f"9e3b51d0-0000-4000-8000-{n:012d}",
            "_ResourceId": f"/subscriptions/{AZ_SUB}/resourcegroups/{AZ_RG.lower()}/providers/microsoft.cognitiveservices/accounts/{AZ_ACCOUNT}"}


def azure_openai():
    """Log Analytics rows of an Azure OpenAI account and the API Management gateway in front of it, one a line."""
    day = datetime(2026, 11, 27, 9, tzinfo=timezone.utc)
    rows = []
    # The chat app's subscription through the gateway: gpt-4o-mini from its own egress, every 5 minutes; every third
    # request streamed, so its LLM log has a second row repeating the tokens.
    for i in range(10):
        t = day + timedelta(minutes=5 * i, seconds=11 + 7 * i)
        n = i + 1
        rows.append(az_gateway(t, n, "sub-chat-prod", "chat-app", "203.0.113.10"))
        stream = i % 3 == 0
        rows.append(az_llm(t, n, 0, "gpt-4o-mini", "chat-mini", 900 + 10 * i, 150, stream))
        if stream:
            rows.append(az_llm(t + timedelta(seconds=2), n, 1, "gpt-4o-mini", "chat-mini", 900 + 10 * i, 150, stream))
    # A call without a subscription key: the gateway answers 401 and never reaches the model (no LLM log).
    rows.append(az_gateway(day + timedelta(minutes=12, seconds=40), 90, "", "", "198.51.100.200", code=401, total_time=3))
    # Direct calls to the account with its key (RequestResponse; the caller's last octet masked, no tokens).
    for i in range(4):
        t = day + timedelta(minutes=7 + 10 * i, seconds=23)
        if i % 2 == 0:
            rows.append(az_request_response(t, 100 + i, "ChatCompletions_Create", "chat-mini", "gpt-4o-mini", "81.2.69.***"))
        else:
            rows.append(az_request_response(t, 100 + i, "Embeddings_Create", "embed-small", "text-embedding-3-small", "81.2.69.***", duration=120))
    # Control plane: the deployment pipeline lists the account's keys, an administrator regenerates key 2.
    rows.append(az_activity(day + timedelta(minutes=2, seconds=5), 1, "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION",
                            "5d1e8a7c-0000-4000-8000-0000000000d1", "203.0.113.50"))
    rows.append(az_activity(day + timedelta(minutes=30, seconds=48), 2, "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/REGENERATEKEY/ACTION",
                            "dana.kim@example.com", "198.51.100.7"))
    # Audit category: the same two reads of the account's keys as the account's own diagnostic log writes them.
    rows.append(az_audit(day + timedelta(minutes=2, seconds=5), 1, "5d1e8a7c-0000-4000-8000-0000000000d1"))
    rows.append(az_audit(day + timedelta(minutes=30, seconds=47), 2, "0b7f3e2a-0000-4000-8000-0000000000a7"))
    # The episode: the chat app's subscription key, leaked, used from another network for gpt-4o with long prompts.
    abuse = datetime(2026, 11, 27, 14, 5, 31, tzinfo=timezone.utc)
    for i in range(6):
        t = abuse + timedelta(minutes=2 * i, seconds=3 * i)
        n = 50 + i
        rows.append(az_gateway(t, n, "sub-chat-prod", "chat-app", "198.51.100.77", deployment="chat-4o", total_time=4200))
        rows.append(az_llm(t, n, 0, "gpt-4o", "chat-4o", 24000, 3900, True))
        rows.append(az_llm(t + timedelta(seconds=3), n, 1, "gpt-4o", "chat-4o", 24000, 3900, True))
        rows.append(az_llm(t + timedelta(seconds=6), n, 2, "gpt-4o", "chat-4o", 24000, 3900, True))
    rows.sort(key=lambda r: (r["TimeGenerated"], r["Type"], r.get("SequenceNumber", -1)))
    write("vendor/azure_openai", "azure_openai", rows)
    with open(os.path.join(TEST_DATA, "vendor/azure_openai", "inventory.yaml"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# Key inventory for test-data/vendor/azure_openai (synthetic; see README.md).\n"
                "keys:\n"
                "  - id: sub-chat-prod\n    provider: azure_openai\n    owner: lee.park@example.com\n    team: chat\n"
                "    service: chat-app\n    env: prod\n    models: [gpt-4o-mini]\n    operations: [chat]\n"
                "  - id: CONTOSO-OPENAI-PROD\n    provider: azure_openai\n    owner: dana.kim@example.com\n    team: platform\n"
                "    service: llm-platform\n    env: prod\n    models: [gpt-4o-mini, gpt-4o, text-embedding-3-small]\n")


if __name__ == "__main__":
    llmjacking()
    onboarding()
    cloudtrail_shapes()
    bedrock_invocations()
    litellm()
    otel()
    openai_audit()
    azure_openai()
