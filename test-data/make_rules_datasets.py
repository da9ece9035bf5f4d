#!/usr/bin/env python3
"""Writes the handcrafted datasets of the rule library's second wave (issue 15) and checks them.

    python3 test-data/make_rules_datasets.py

Builds on make_handcrafted.py (its Dataset class, keys, callers and writer), which it imports
and never rewrites: run either script alone, in any order. Standard library only; every
dataset has its own fixed seed, so a second run writes byte-identical files.

All data is synthetic and made for this repository (Apache-2.0): addresses from the
documentation ranges (RFC 5737), AS numbers from the documentation ranges (RFC 5398), key ids
that are ids, never secrets. The log lines of leaks/ hold key-shaped strings made of
repeated filler ("FAKE", "EXAMPLE", "x" runs): they match the provider formats' regular
expressions and are not, and never were, credentials.
"""

import json
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_handcrafted as hc  # noqa: E402

at, days, Dataset, KEYS, CLIENTS = hc.at, hc.days, hc.Dataset, hc.KEYS, hc.CLIENTS

# --- keys and callers this wave adds (the dicts are make_handcrafted's own objects) ---

KEYS.update({
    "svc-etl-prod": {
        "provider": "openai", "owner": "priya.nair@example.com", "team": "data",
        "service": "nightly-etl", "env": "prod", "oncall": "pagerduty:data-oncall",
        "created": "2026-05-04", "expires": "2027-05-04", "rotated": "2026-10-05",
        "models": ["gpt-4o-mini"], "operations": ["chat"], "countries": ["US"],
    },
    "svc-billing-old": {
        "provider": "openai", "owner": "lars.becker@example.com", "team": "finance",
        "service": "billing-insights", "env": "prod", "oncall": "pagerduty:finance-oncall",
        "created": "2026-03-01", "expires": "2026-11-29", "rotated": "2026-11-28",
        "models": ["gpt-4o-mini"], "operations": ["chat"], "countries": ["IE"],
    },
    "svc-billing-new": {
        "provider": "openai", "owner": "lars.becker@example.com", "team": "finance",
        "service": "billing-insights", "env": "prod", "oncall": "pagerduty:finance-oncall",
        "created": "2026-11-28", "expires": "2027-11-28", "rotated": "2026-11-28",
        "models": ["gpt-4o-mini"], "operations": ["chat"], "countries": ["IE"],
    },
})

CLIENTS.update({
    "attacker-us-vps": ("198.51.100.120", "US", 64508, "python-requests/2.32.3"),
    "etl-runners": ("203.0.113.60", "US", 64500, "OpenAI/Python 1.54.0"),
    "billing-ie": ("192.0.2.30", "IE", 64503, "OpenAI/JS 4.67.3"),
    "attacker-vn": ("192.0.2.200", "VN", 64506, "curl/8.5.0"),
    "chat-servers-new-sdk": ("203.0.113.10", "US", 64500, "OpenAI/Python 1.55.2"),
    "chat-servers-curl": ("203.0.113.10", "US", 64500, "curl/8.5.0"),
    "attacker-nl-curl": ("198.51.100.23", "NL", 64509, "curl/8.5.0"),
    "partner-us": ("198.51.100.130", "US", 64501, "OpenAI/Python 1.54.0"),
})

COUNTRIES = ["BR", "IN", "VN", "ID", "RU", "NG", "TR", "PK", "EG", "MX"]
for i in range(60):  # a publicly leaked key: 60 addresses, 10 countries, 10 networks
    CLIENTS["leak-%02d" % i] = ("192.0.2.%d" % (100 + i), COUNTRIES[i % 10], 65536 + (i % 10),
                                ["python-requests/2.32.3", "curl/8.5.0", "Go-http-client/2.0"][i % 3])
for i in range(30):  # a service's own fleet: 30 addresses in two regions of its own network
    CLIENTS["fleet-%02d" % i] = ("203.0.113.%d" % (100 + i), "US" if i < 20 else "DE",
                                 64500 if i < 20 else 64502, "OpenAI/Python 1.54.0")


class RulesDataset(Dataset):
    """A Dataset that can also write requests with key ids the inventory does not know (decoys)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.logs = None

    def request(self, when, *args, **kwargs):
        # Whole seconds would sit on the rules' window edges, where Kusto's ago() and Kibana's range differ
        # by design (one excludes the edge, the other includes it); real events carry milliseconds.
        if when.microsecond == 0:
            when = when + timedelta(milliseconds=self.rng.randint(1, 999))
        super().request(when, *args, **kwargs)

    def unknown_key(self, when, key, client, status=401):
        if when.microsecond == 0:
            when = when + timedelta(milliseconds=self.rng.randint(1, 999))
        ip, country, asn, ua = CLIENTS[client]
        ev = {
            "key_id": key, "service": "unknown", "env": "unknown",
            "client_ip": ip, "country": country, "asn": asn, "user_agent": ua,
            "provider": "openai", "model": "gpt-4o-mini", "operation": "chat",
            "input_tokens": 0, "output_tokens": 0, "status": status,
            "latency_ms": self.rng.randint(15, 90), "cost_usd": 0.0,
        }
        self.events.append((when, len(self.events), ev))


def weekday_hours(first, last, hours=range(9, 17)):
    for day in days(first, last):
        if day.weekday() < 5:
            for hour in hours:
                yield day + timedelta(hours=hour)


def chat_history(ds, key, client, first, last, per_hour=4, tokens=(300, 1500, 50, 400)):
    """Weekday business-hours use: `per_hour` requests in each hour 09:00-17:00 UTC."""
    rng = ds.rng
    tok = hc.chat_tokens(rng, *tokens)
    for hour in weekday_hours(first, last):
        for m in sorted(rng.sample(range(60), per_hour)):
            ds.request(hour + timedelta(minutes=m, seconds=rng.randint(0, 59)), key, client,
                       KEYS[key]["models"][0], "chat", tok())


TAIL = """
## Provenance and licence

Synthetic, made for this repository: no real traffic, keys, people or networks.
`test-data/make_rules_datasets.py` (Python 3 standard library, fixed seed per dataset, on
top of `make_handcrafted.py`) wrote every file in this folder; running it again rewrites them
byte for byte and re-checks them. Licensed like the rest of the repository, under Apache-2.0.

Addresses are from the documentation ranges of RFC 5737, AS numbers from the documentation
ranges of RFC 5398, e-mail addresses use `example.com`; each event carries its own `country`
and `asn`. Key ids are ids, never secrets.
"""

# ==================================================================================
# volume
# ==================================================================================


def volume_tokens_hour_burst():
    ds = RulesDataset("volume/tokens-hour-burst", 2101, "th", ["svc-chat-prod", "svc-etl-prod"],
                      "Long prompts on a chat key: tokens per hour far above its baseline")
    chat_history(ds, "svc-chat-prod", "chat-servers", "2026-10-26", "2026-11-30")
    rng = ds.rng
    # A second key whose nightly job is heavy every night: high tokens, but its own normal.
    for day in days("2026-10-26", "2026-11-30"):
        for m in range(0, 40, 2):
            ds.request(day + timedelta(hours=1, minutes=m, seconds=rng.randint(0, 59)),
                       "svc-etl-prod", "etl-runners", "gpt-4o-mini", "chat",
                       (rng.randint(20_000, 30_000), rng.randint(500, 1500)))
    # The attack: Monday 2026-11-30 14:05-14:50, a 40k-120k-token prompt every 3 minutes.
    for i in range(16):
        ds.request(at("2026-11-30 14:05") + timedelta(minutes=3 * i, seconds=rng.randint(0, 59)),
                   "svc-chat-prod", "attacker-us-vps", "gpt-4o-mini", "chat",
                   (rng.randint(40_000, 120_000), rng.randint(800, 2000)))
    ds.labels = [{"scenario": "tokens-hour-burst", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T14:05:00Z", "end": "2026-11-30T14:51:00Z"}]
    ds.readme = """# volume/tokens-hour-burst

A chat key spends about a million tokens in an hour where it normally spends 4,000.

## What the data shows

- `svc-chat-prod` (chat-api): every weekday 2026-10-26 to 2026-11-30, 09:00-17:00 UTC, four
  requests an hour of 350-1,900 tokens from its own servers (203.0.113.10, US, AS64500).
- `svc-etl-prod` (nightly-etl): every night 01:00-01:40 UTC, a request every two minutes with
  20,000-31,500 tokens (about 500,000 tokens in the hour): heavy, and its own normal.
- Monday 2026-11-30 14:05-14:50 UTC: 16 requests of 40,800-122,000 tokens on `svc-chat-prod`
  from 198.51.100.120 (US, AS64508, `python-requests/2.32.3`).

## Expected

`llm-key-tokens-per-hour-above-baseline` alerts for `svc-chat-prod` between 14:05 and 15:05 UTC
and never for `svc-etl-prod`. `labels.json` marks the attack.
"""
    return ds


def volume_token_drain():
    ds = RulesDataset("volume/token-drain", 2102, "td", ["svc-chat-prod"],
                      "A proxy drains a chat key with long completions around the clock")
    chat_history(ds, "svc-chat-prod", "chat-servers", "2026-11-02", "2026-11-30")
    rng = ds.rng
    # From Saturday 2026-11-28 18:00 UTC to Sunday 06:00: 2 requests a minute, 4k-12k-token completions.
    start = at("2026-11-28 18:00")
    for m in range(12 * 60):
        for _ in range(2):
            ds.request(start + timedelta(minutes=m, seconds=rng.randint(0, 59)), "svc-chat-prod",
                       "attacker-vn", "gpt-4o-mini", "chat", (rng.randint(300, 1500), rng.randint(4000, 12000)))
    ds.labels = [{"scenario": "token-drain", "key_id": "svc-chat-prod",
                  "start": "2026-11-28T18:00:00Z", "end": "2026-11-29T06:00:00Z"}]
    ds.readme = """# volume/token-drain

A reverse proxy abroad drains a chat key with long completions through a weekend night.

## What the data shows

- `svc-chat-prod` (chat-api): every weekday 2026-11-02 to 2026-11-30, 09:00-17:00 UTC, four
  requests an hour with 50-400 output tokens from its own servers (US, AS64500). Nothing at
  night or at weekends.
- Saturday 2026-11-28 18:00 to Sunday 06:00 UTC: two requests a minute, each with
  4,000-12,000 output tokens, from 192.0.2.200 (VN, AS64506, `curl/8.5.0`): about 1 million
  output tokens an hour.

## Expected

`llm-key-output-token-drain` alerts for `svc-chat-prod` within the first hour of the drain
(18:00-19:15 UTC). `labels.json` marks the drain.
"""
    return ds


# ==================================================================================
# network
# ==================================================================================


def network_new_asn_burst():
    ds = RulesDataset("network/new-asn-burst", 2201, "na", ["svc-chat-prod", "svc-report-prod"],
                      "A chat key used from a new network in its own country with 60,000 tokens")
    chat_history(ds, "svc-chat-prod", "chat-servers", "2026-11-02", "2026-11-30", per_hour=2)
    chat_history(ds, "svc-report-prod", "report-servers", "2026-11-02", "2026-11-30", per_hour=2)
    rng = ds.rng
    for i in range(30):  # 14:02-14:07, 30 x 2,000 tokens from a VPS in the same country
        ds.request(at("2026-11-30 14:02") + timedelta(seconds=10 * i, milliseconds=rng.randint(0, 9_999)),
                   "svc-chat-prod", "attacker-us-vps", "gpt-4o-mini", "chat", (1400, 600))
    for i in range(3):  # the report key's partner makes three small calls from a new network
        ds.request(at("2026-11-30 15:00") + timedelta(minutes=2 * i), "svc-report-prod", "partner-us",
                   "claude-sonnet-4-5", "chat", (800, 200))
    ds.labels = [{"scenario": "new-asn-burst", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T14:02:00Z", "end": "2026-11-30T14:08:00Z"}]
    ds.readme = """# network/new-asn-burst

A chat key used from a network it never used, in its own country, with 60,000 tokens in five
minutes; and a small first use of another key from a new network.

## What the data shows

- `svc-chat-prod` and `svc-report-prod`: every weekday 2026-11-02 to 2026-11-30, 09:00-17:00
  UTC, two requests an hour from their own servers (US, AS64500).
- 2026-11-30 14:02-14:07 UTC: 30 requests of 2,000 tokens on `svc-chat-prod` from
  198.51.100.120 (US, AS64508, `python-requests/2.32.3`): a new AS, not a new country.
- 2026-11-30 15:00-15:04 UTC: three requests of 1,000 tokens on `svc-report-prod` from
  198.51.100.130 (US, AS64501): a new AS with little use.

## Expected

`llm-key-new-asn-high-tokens` alerts for `svc-chat-prod` between 14:02 and 14:25 UTC, and not
for `svc-report-prod` (3,000 tokens is under the rule's floor). `labels.json` marks the attack.
"""
    return ds


def network_public_leak_fanout():
    ds = RulesDataset("network/public-leak-fanout", 2202, "pl", ["svc-chat-prod"],
                      "A key published on the internet, used from 60 addresses in 10 countries")
    chat_history(ds, "svc-chat-prod", "chat-servers", "2026-11-23", "2026-11-30", per_hour=2)
    rng = ds.rng
    for i in range(60):  # 16:00-16:08, each leaked-key user tries it one to three times
        t = at("2026-11-30 16:00") + timedelta(seconds=8 * i)
        for _ in range(rng.randint(1, 3)):
            ds.request(t, "svc-chat-prod", "leak-%02d" % i, "gpt-4o-mini", "chat", (rng.randint(200, 900), rng.randint(50, 300)))
            t += timedelta(seconds=rng.randint(2, 30))
    ds.labels = [{"scenario": "public-leak-fanout", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T16:00:00Z", "end": "2026-11-30T16:10:00Z"}]
    ds.readme = """# network/public-leak-fanout

A chat key published on the internet: sixty strangers try it within ten minutes.

## What the data shows

- `svc-chat-prod` (chat-api): weekdays 2026-11-23 to 2026-11-30, 09:00-17:00 UTC, two requests
  an hour from its servers (203.0.113.10, US, AS64500).
- 2026-11-30 16:00-16:09 UTC: 60 addresses (192.0.2.100-159) in 10 countries and 10 networks
  (AS65536-65545), each one to three requests with `python-requests`, `curl` or `Go-http-client`.

## Expected

`llm-key-address-country-fanout` alerts for `svc-chat-prod` between 16:00 and 16:20 UTC.
`labels.json` marks the leak.
"""
    return ds


def network_busy_fleet():
    ds = RulesDataset("network/busy-fleet", 2203, "bf", ["svc-chat-prod"],
                      "A service's own fleet of 30 addresses in two regions: nothing to alert on")
    rng = ds.rng
    tok = hc.chat_tokens(rng)
    for m in range(120):  # 09:00-11:00: every minute, five of the fleet's 30 servers call
        for i in rng.sample(range(30), 5):
            ds.request(at("2026-11-30 09:00") + timedelta(minutes=m, seconds=rng.randint(0, 59)),
                       "svc-chat-prod", "fleet-%02d" % i, "gpt-4o-mini", "chat", tok())
    ds.labels = []
    ds.readme = """# network/busy-fleet

A chat service scaled out to 30 servers in two regions: many addresses, two countries, two
networks. No alert is expected.

## What the data shows

- `svc-chat-prod` (chat-api), 2026-11-30 09:00-11:00 UTC: every minute five of 30 servers
  (203.0.113.100-119 in US, AS64500; 203.0.113.120-129 in DE, AS64502) make one request each.

## Expected

`llm-key-address-country-fanout` raises nothing: 30 addresses, but only two countries and two
networks, all the service's own. `labels.json` is empty.
"""
    return ds


# ==================================================================================
# auth
# ==================================================================================


def auth_address_spray():
    ds = RulesDataset("auth/address-spray", 2301, "as", ["svc-chat-prod"],
                      "One address tries 25 leaked keys, 75 times refused, in four minutes")
    hc.normal_chat_hour(ds)
    rng = ds.rng
    keys = ["fp-%012x" % rng.getrandbits(48) for _ in range(25)]
    for i in range(75):  # 10:01-10:04: three tries of each of 25 key fingerprints
        ds.unknown_key(at("2026-11-30 10:01") + timedelta(seconds=3 * i, milliseconds=rng.randint(0, 2_999)),
                       keys[i % 25], "attacker-sg")
    for i in range(4):  # and four tries on the real key, refused too
        ds.request(at("2026-11-30 10:02") + timedelta(seconds=20 * i), "svc-chat-prod", "attacker-sg",
                   "gpt-4o-mini", "chat", (0, 0), status=401)
    ds.labels = [{"scenario": "credential-stuffing", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T10:01:00Z", "end": "2026-11-30T10:05:00Z",
                  "addresses": ["198.51.100.99"]}]
    ds.readme = """# auth/address-spray

One address tries a list of leaked keys against the API: 79 refusals on 26 keys in four minutes.

## What the data shows

- `svc-chat-prod`: 2026-11-30 09:30-10:30 UTC, two successful requests a minute from its servers.
- 10:01-10:04 UTC, from 198.51.100.99 (SG, AS64507, `python-requests/2.31.0`): 75 requests
  refused with 401 on 25 key fingerprints the inventory does not know (`fp-...`, three tries
  each), and 4 refused on `svc-chat-prod`.

## Expected

`llm-address-auth-failure-burst` and `llm-address-many-keys-tried` each alert once for the
address; the alert names `svc-chat-prod`, the inventory key among those tried.
`llm-key-auth-failure-burst` stays quiet (4 refusals on the key). `labels.json` gives the
attack's address (`addresses`), so the alerts by address, which name no key, are matched to
it and measure a time to detect.
"""
    return ds


# ==================================================================================
# probing
# ==================================================================================


def probing_model_probing():
    ds = RulesDataset("probing/model-probing", 2401, "mp", ["svc-chat-prod"],
                      "Model listing, a burst of 404 and 400 errors, then inference on the dearest model")
    hc.normal_chat_hour(ds)
    rng = ds.rng
    t = at("2026-11-30 10:00")
    for i in range(4):
        ds.request(t + timedelta(seconds=15 * i), "svc-chat-prod", "attacker-nl", "", "models.list")
    t = at("2026-11-30 10:02")
    for i in range(40):
        model, status = (["gpt-5", "o1-pro", "o3-pro", "gpt-4-32k"][i % 4], 404) if i % 3 else ("gpt-4o", 400)
        ds.request(t + timedelta(seconds=6 * i), "svc-chat-prod", "attacker-nl", model, "chat", (0, 0), status=status)
    t = at("2026-11-30 10:08")
    for i in range(30):
        ds.request(t + timedelta(seconds=10 * i), "svc-chat-prod", "attacker-nl", "gpt-4o", "chat",
                   (rng.randint(800, 2000), rng.randint(2000, 4000)))
    ds.labels = [{"scenario": "model-probing", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T10:00:00Z", "end": "2026-11-30T10:13:00Z"}]
    ds.readme = """# probing/model-probing

A thief checks what a stolen key can reach, then uses the dearest model it found.

## What the data shows

- `svc-chat-prod`: 2026-11-30 09:30-10:30 UTC, two successful requests a minute from its servers.
- From 198.51.100.23 (NL, AS64509, `python-requests/2.32.3`): 10:00 four `models.list` calls;
  10:02-10:06 40 chat requests refused with 404 (unknown models) or 400 (invalid parameters);
  10:08-10:13 30 successful `gpt-4o` chat requests with 2,000-4,000-token completions.

## Expected

`llm-key-model-probing` alerts for `svc-chat-prod` and 198.51.100.23 from 10:08 UTC (the
rule looks 35 minutes back, so Sentinel raises it again on later runs until 10:45).
`labels.json` marks the probing.
"""
    return ds


def probing_benign_errors():
    ds = RulesDataset("probing/benign-errors", 2402, "be", ["svc-chat-prod"],
                      "A health check lists models, a client sends a few bad requests: nothing to alert on")
    hc.normal_chat_hour(ds)
    for m in range(0, 61, 5):  # a health check lists models every five minutes
        ds.request(at("2026-11-30 09:30") + timedelta(minutes=m, seconds=5), "svc-chat-prod", "chat-servers", "", "models.list")
    for hhmm, n, status in [("09:41", 2, 400), ("09:58", 3, 400), ("10:14", 2, 404)]:
        ds.minute(at("2026-11-30 " + hhmm), n, "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", (0, 0), status=status)
    ds.labels = []
    ds.readme = """# probing/benign-errors

The ordinary errors of a healthy service: no alert is expected.

## What the data shows

- `svc-chat-prod`: 2026-11-30 09:30-10:30 UTC, two successful chat requests a minute from its
  servers (203.0.113.10), a `models.list` health check every five minutes, and a few requests
  refused with 400 (09:41 two, 09:58 three) or 404 (10:14 two).

## Expected

`llm-key-model-probing` raises nothing: the errors never reach a burst. `labels.json` is empty.
"""
    return ds


# ==================================================================================
# user agents
# ==================================================================================


def agents_new_family():
    ds = RulesDataset("agents/new-family", 2501, "uf", ["svc-chat-prod"],
                      "A chat key that always came from the SDK is used with curl")
    chat_history(ds, "svc-chat-prod", "chat-servers", "2026-11-16", "2026-11-30", per_hour=2)
    rng = ds.rng
    for i in range(12):
        ds.request(at("2026-11-30 15:10") + timedelta(seconds=20 * i), "svc-chat-prod", "attacker-nl-curl",
                   "gpt-4o-mini", "chat", (rng.randint(500, 1500), rng.randint(100, 400)))
    ds.labels = [{"scenario": "new-user-agent-family", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T15:10:00Z", "end": "2026-11-30T15:14:00Z"}]
    ds.readme = """# agents/new-family

A chat key that has only ever been called by the OpenAI Python SDK is used with curl.

## What the data shows

- `svc-chat-prod`: weekdays 2026-11-16 to 2026-11-30, 09:00-17:00 UTC, two requests an hour
  from its servers with `OpenAI/Python 1.54.0`.
- 2026-11-30 15:10-15:14 UTC: 12 requests from 198.51.100.23 (NL, AS64509) with `curl/8.5.0`.

## Expected

`llm-key-new-user-agent-family` alerts for `svc-chat-prod` between 15:10 and 15:30 UTC.
"""
    return ds


def agents_sdk_upgrade():
    ds = RulesDataset("agents/sdk-upgrade", 2502, "su", ["svc-chat-prod"],
                      "A service upgrades its SDK: a new user agent, the same family")
    chat_history(ds, "svc-chat-prod", "chat-servers", "2026-11-16", "2026-11-27", per_hour=2)
    chat_history(ds, "svc-chat-prod", "chat-servers-new-sdk", "2026-11-30", "2026-11-30", per_hour=6)
    ds.labels = []
    ds.readme = """# agents/sdk-upgrade

A service upgrades its SDK over a weekend: no alert is expected.

## What the data shows

- `svc-chat-prod`: weekdays 2026-11-16 to 2026-11-27, two requests an hour with
  `OpenAI/Python 1.54.0`; Monday 2026-11-30, six requests an hour with `OpenAI/Python 1.55.2`
  from the same servers.

## Expected

`llm-key-new-user-agent-family` raises nothing: the family (`OpenAI`) is the same.
"""
    return ds


# ==================================================================================
# keys: expired, rotated out, shared
# ==================================================================================


def keys_expired_key_use():
    ds = RulesDataset("keys/expired-key-use", 2601, "ek", ["svc-billing-old", "svc-billing-new"],
                      "A rotated-out key, expired in the inventory, used again from abroad")
    rng = ds.rng
    tok = hc.chat_tokens(rng)
    for hour in weekday_hours("2026-11-16", "2026-11-27"):
        for m in sorted(rng.sample(range(60), 3)):
            ds.request(hour + timedelta(minutes=m), "svc-billing-old", "billing-ie", "gpt-4o-mini", "chat", tok())
    for hour in weekday_hours("2026-11-30", "2026-11-30"):
        for m in sorted(rng.sample(range(60), 3)):
            ds.request(hour + timedelta(minutes=m), "svc-billing-new", "billing-ie", "gpt-4o-mini", "chat", tok())
    for i in range(20):  # the old key, expired 2026-11-29, used again on 2026-11-30 from 13:20
        ds.request(at("2026-11-30 13:20") + timedelta(seconds=30 * i), "svc-billing-old", "attacker-vn",
                   "gpt-4o-mini", "chat", tok())
    ds.labels = [{"scenario": "expired-key-use", "key_id": "svc-billing-old",
                  "start": "2026-11-30T13:20:00Z", "end": "2026-11-30T13:30:00Z"}]
    ds.readme = """# keys/expired-key-use

A key rotated out on 2026-11-28 and expired on 2026-11-29 is used again.

## What the data shows

- `svc-billing-old` (billing-insights; inventory: rotated 2026-11-28, expires 2026-11-29):
  weekdays 2026-11-16 to 2026-11-27, three requests an hour from 192.0.2.30 (IE, AS64503).
- `svc-billing-new` (created 2026-11-28, expires 2027-11-28): the service's traffic on Monday
  2026-11-30.
- 2026-11-30 13:20-13:30 UTC: 20 successful requests on `svc-billing-old` from 192.0.2.200
  (VN, AS64506, `curl/8.5.0`).

## Expected

`llm-key-expired-key-use` alerts for `svc-billing-old` between 13:20 and 13:40 UTC; never for
`svc-billing-new`, and never for the old key's use before its expiry.
"""
    return ds


def keys_shared_key():
    ds = RulesDataset("keys/shared-key", 2602, "sk", ["svc-chat-prod", "svc-report-prod"],
                      "One key used by two services and two environments")
    rng = ds.rng
    tok = hc.chat_tokens(rng)
    for m in range(0, 120, 2):
        ds.request(at("2026-11-30 09:00") + timedelta(minutes=m, seconds=rng.randint(0, 59)), "svc-chat-prod",
                   "chat-servers", "gpt-4o-mini", "chat", tok())
        ds.request(at("2026-11-30 09:00") + timedelta(minutes=m, seconds=rng.randint(0, 59)), "svc-report-prod",
                   "report-servers", "claude-sonnet-4-5", "chat", tok())
    # 10:10-10:30: a staging job of another service borrows the chat key
    for m in range(10, 30):
        t = at("2026-11-30 10:00") + timedelta(minutes=m, seconds=rng.randint(0, 59))
        ds.request(t, "svc-chat-prod", "lab-laptop", "gpt-4o-mini", "chat", tok())
        ev = ds.events[-1][2]
        ev["service"], ev["env"] = "growth-experiments", "staging"
    ds.labels = []
    ds.readme = """# keys/shared-key

A production key borrowed by another service's staging job.

## What the data shows

- 2026-11-30 09:00-11:00 UTC: `svc-chat-prod` used by `chat-api` (prod) and `svc-report-prod`
  by `report-api` (prod), one request every two minutes each.
- 10:10-10:30 UTC: 20 requests on `svc-chat-prod` whose events name service
  `growth-experiments` and environment `staging`, from 203.0.113.41.

## Expected

`llm-key-shared-across-services` alerts for `svc-chat-prod` between 10:10 and 11:00 UTC, and not
for `svc-report-prod`. Not an attack (no labels): a hygiene finding.
"""
    return ds


# ==================================================================================
# inventory audit
# ==================================================================================


def inventory_stale_keys():
    ds = RulesDataset("inventory/stale-keys", 2701, "sl",
                      ["svc-chat-prod", "svc-embed-prod", "legacy-batch-key", "svc-support-prod", "svc-etl-prod"],
                      "Keys not rotated, expiring too far out, or unused")
    ds.inventory_overrides = {
        # rotated 2026-09-01 -> 90 days on 2026-11-30, not more: quiet
        "svc-chat-prod": {"last_used": "2026-11-29"},
        # rotated 2026-09-15, last used recently: quiet
        "svc-embed-prod": {"last_used": "2026-11-30"},
        # rotated 2025-01-15 (684 days), no expiry: not rotated
        "legacy-batch-key": {"last_used": "2026-11-28"},
        # rotated 2026-08-03 (119 days), unused since 2026-10-01 (60 days)
        "svc-support-prod": {"last_used": "2026-10-01"},
        # expires 2028-06-30, more than a year out
        "svc-etl-prod": {"expires": "2028-06-30", "last_used": "2026-11-30"},
    }
    ds.readme = """# inventory/stale-keys

An inventory of five keys audited on 2026-11-30: rotation, expiry horizon, last use.

## What the data shows

`inventory.yaml`, and one request of `svc-chat-prod` on 2026-11-30 12:00 UTC in `events.jsonl`
so that the daily audit runs on that day.

| key | rotated | expires | last used | finding on 2026-11-30 |
|---|---|---|---|---|
| `svc-chat-prod` | 2026-09-01 (90 days) | 2027-03-01 | 2026-11-29 | none (90 days is not over 90) |
| `svc-embed-prod` | 2026-09-15 | 2027-06-01 | 2026-11-30 | none |
| `legacy-batch-key` | 2025-01-15 | none | 2026-11-28 | not rotated for 684 days |
| `svc-support-prod` | 2026-08-03 (119 days) | 2027-02-01 | 2026-10-01 | not rotated; unused for 60 days |
| `svc-etl-prod` | 2026-10-05 | 2028-06-30 | 2026-11-30 | expiry 578 days out |

## Expected

`llm-key-not-rotated-90-days`: `legacy-batch-key`, `svc-support-prod`.
`llm-key-expiry-too-far`: `svc-etl-prod`. `llm-key-unused-30-days`: `svc-support-prod`.
"""
    return ds


def inventory_fresh_keys():
    ds = RulesDataset("inventory/fresh-keys", 2702, "fk", ["svc-chat-prod", "svc-embed-prod", "svc-report-prod"],
                      "Keys rotated recently, expiring within the year, in use")
    ds.inventory_overrides = {
        "svc-chat-prod": {"rotated": "2026-11-02", "expires": "2027-05-01", "last_used": "2026-11-30"},
        "svc-embed-prod": {"rotated": "2026-10-15", "expires": "2027-04-15", "last_used": "2026-11-01"},
        "svc-report-prod": {"rotated": "2026-10-14", "expires": "2027-11-30", "last_used": "2026-11-29"},
    }
    # One request pins the audit's day: the rules run on the days the events span.
    ds.request(at("2026-11-30 12:00"), "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", (500, 100))
    ds.readme = """# inventory/fresh-keys

An inventory of three well-kept keys audited on 2026-11-30: no finding is expected.

## What the data shows

`inventory.yaml`, and one request of `svc-chat-prod` on 2026-11-30 12:00 UTC in `events.jsonl`
so that the daily audit runs on that day.

| key | rotated | expires | last used |
|---|---|---|---|
| `svc-chat-prod` | 2026-11-02 | 2027-05-01 | 2026-11-30 |
| `svc-embed-prod` | 2026-10-15 | 2027-04-15 | 2026-11-01 (29 days) |
| `svc-report-prod` | 2026-10-14 (47 days) | 2027-11-30 (365 days, not more) | 2026-11-29 |

## Expected

`llm-key-not-rotated-90-days`, `llm-key-expiry-too-far` and `llm-key-unused-30-days` raise
nothing on 2026-11-30 (each boundary is inclusive of its limit).
"""
    return ds


# ==================================================================================
# leaks: key material in logs
# ==================================================================================

# Obviously fake key material in each provider's shape: filler words and runs, no secret.
def fake(prefix, body_len, filler="FAKEx0EXAMPLEx0"):
    body = (filler * (body_len // len(filler) + 1))[:body_len]
    return prefix + body


FAKE_OPENAI = "sk-proj-" + fake("", 74) + "T3BlbkFJ" + fake("", 74)
FAKE_ANTHROPIC = "sk-ant-api03-" + fake("", 93) + "AA"
FAKE_GEMINI = "AIza" + fake("", 35, "FAKE0example")
FAKE_GROQ = "gsk_" + fake("", 52, "FAKE0example")
FAKE_OPENROUTER = "sk-or-v1-" + ("0123456789abcdef" * 4)
FAKE_HF = "hf_" + fake("", 34, "fakeexample")
FAKE_OPENAI_LEGACY = "sk-" + fake("", 20, "FAKEx0EXAMPLE") + "T3BlbkFJ" + fake("", 20, "FAKEx0EXAMPLE")
FAKE_OPENAI_ADMIN = "sk-admin-" + fake("", 58) + "T3BlbkFJ" + fake("", 58)
FAKE_ANTHROPIC_ADMIN = "sk-ant-admin01-" + fake("", 93) + "AA"
FAKE_XAI = "xai-" + fake("", 80, "FAKE0example")
FAKE_PPLX = "pplx-" + fake("", 48, "FAKE0example")
FAKE_REPLICATE = "r8_" + fake("", 37, "FAKE0example")
FAKE_LANGSMITH = "lsv2_pt_" + "0123456789abcdef" * 2 + "_" + "0123456789"
FAKE_BEDROCK = "ABSK" + fake("", 120, "RkFLRWV4YW1wbGU")
FAKE_CEREBRAS = "csk-" + fake("", 48, "fake0example")


def leaks_ci_key_material():
    ds = RulesDataset("leaks/ci-key-material", 2801, "ck", ["svc-chat-prod"],
                      "CI and application logs that print provider key material")
    ds.logs = [
        ("2026-11-30T09:30:02.000Z", "ci-runner-7", "ci/build-1041/test", "build-and-test", "example/chat-api",
         "Build 1041 started"),
        ("2026-11-30T10:00:05.000Z", "ci-runner-7", "ci/build-1042/test", "build-and-test", "example/chat-api",
         "Running integration tests against https://api.openai.com/v1"),
        ("2026-11-30T10:00:07.000Z", "ci-runner-7", "ci/build-1042/test", "build-and-test", "example/chat-api",
         "DEBUG env OPENAI_API_KEY=" + FAKE_OPENAI),
        ("2026-11-30T10:03:11.000Z", "app-report-2", "/var/log/report-api/app.log", "", "",
         "WARN retrying request with x-api-key: " + FAKE_ANTHROPIC + " after 529"),
        ("2026-11-30T10:05:40.000Z", "ci-runner-3", "ci/build-1043/deploy", "deploy", "example/maps",
         "export GEMINI_API_KEY=" + FAKE_GEMINI),
        ("2026-11-30T10:07:02.000Z", "app-lab-1", "/var/log/lab/worker.log", "", "",
         "groq client init key=" + FAKE_GROQ),
    ]
    # One more line per remaining format, all in CI build 1042's test log.
    for i, (what, key) in enumerate([
            ("OPENAI_LEGACY_KEY", FAKE_OPENAI_LEGACY), ("OPENAI_ADMIN_KEY", FAKE_OPENAI_ADMIN),
            ("ANTHROPIC_ADMIN_KEY", FAKE_ANTHROPIC_ADMIN), ("HF_TOKEN", FAKE_HF), ("XAI_API_KEY", FAKE_XAI),
            ("PPLX_API_KEY", FAKE_PPLX), ("REPLICATE_API_TOKEN", FAKE_REPLICATE),
            ("OPENROUTER_API_KEY", FAKE_OPENROUTER), ("LANGSMITH_API_KEY", FAKE_LANGSMITH),
            ("AWS_BEARER_TOKEN_BEDROCK", FAKE_BEDROCK), ("CEREBRAS_API_KEY", FAKE_CEREBRAS)]):
        ds.logs.append(("2026-11-30T10:08:%02d.%03dZ" % (i, 137 + i), "ci-runner-7", "ci/build-1042/test", "build-and-test",
                        "example/chat-api", "env %s=%s" % (what, key)))
    ds.logs.sort(key=lambda l: l[0])
    ds.readme = """# leaks/ci-key-material

CI jobs and application logs that print key material in provider formats.

## What the data shows

`logs.jsonl` (normalized log lines: `time`, `host`, `source`, `pipeline`, `repository`,
`message`) from 09:30 UTC; `events.jsonl` is empty. Fifteen lines hold key material in the shapes of
`../shared/KEY-FORMATS.md`: an OpenAI project key (CI build 1042 on `ci-runner-7`), an
Anthropic key (report-api's application log on `app-report-2`), a Google AI Studio key (CI
deploy 1043 on `ci-runner-3`), a Groq key (`app-lab-1`), and in build 1042's log one line for
each remaining format (OpenAI legacy and admin, Anthropic admin, Hugging Face, xAI, Perplexity,
Replicate, OpenRouter, LangSmith, Bedrock, Cerebras). Every one is fake: the body is a filler
such as `FAKEx0EXAMPLEx0`, `FAKE0example` or `0123456789abcdef` repeated, which matches the
format and is no secret.

## Expected

`llm-key-material-in-logs` alerts once per host and source: `ci-runner-7`, `app-report-2`,
`ci-runner-3`, `app-lab-1`, between 10:00 and 10:30 UTC.
"""
    return ds


def leaks_clean_logs():
    ds = RulesDataset("leaks/clean-logs", 2802, "cl", ["svc-chat-prod"],
                      "Logs that mention keys without holding key material")
    ds.logs = [
        ("2026-11-30T09:30:02.000Z", "ci-runner-7", "ci/build-1049/test", "build-and-test", "example/chat-api",
         "Build 1049 started"),
        ("2026-11-30T10:00:05.000Z", "ci-runner-7", "ci/build-1050/test", "build-and-test", "example/chat-api",
         "OPENAI_API_KEY=*** (masked)"),
        ("2026-11-30T10:00:09.000Z", "ci-runner-7", "ci/build-1050/test", "build-and-test", "example/chat-api",
         "using key sk-proj-...T3Bl (redacted, 164 chars)"),
        ("2026-11-30T10:02:00.000Z", "app-report-2", "/var/log/report-api/app.log", "", "",
         "anthropic key id sk-ant-api03-abc... rejected: truncated"),
        ("2026-11-30T10:04:00.000Z", "app-lab-1", "/var/log/lab/worker.log", "", "",
         "model=gpt-4o-mini request_id=req_0123456789abcdef0123456789abcdef tokens=1234"),
        ("2026-11-30T10:06:00.000Z", "ci-runner-3", "ci/build-1051/deploy", "deploy", "example/maps",
         "AIza prefix check failed for key of length 12"),
        ("2026-11-30T10:08:00.000Z", "ci-runner-3", "ci/build-1051/deploy", "deploy", "example/maps",
         "task-queue gsk_short_1234 enqueued"),
        ("2026-11-30T10:09:00.000Z", "ci-runner-3", "ci/build-1051/deploy", "deploy", "example/maps",
         "xai-grok endpoint ok; pplx-api ok; r8_client v1; sk-or-v1-(unset); lsv2_pt_ prefix only"),
        ("2026-11-30T10:10:00.000Z", "app-lab-1", "/var/log/lab/worker.log", "", "",
         "hf_hub download ok; ABSK header missing; csk-cluster-a ready; sk-ant-admin01-redacted"),
        ("2026-11-30T10:11:00.000Z", "app-lab-1", "/var/log/lab/worker.log", "", "",
         "legacy key sk-" + "x" * 20 + "T3Blbk (truncated)"),
    ]
    ds.readme = """# leaks/clean-logs

Log lines that talk about keys without holding any: masked and truncated keys, prefixes,
request ids, provider prefixes without a key. No alert is expected.

## What the data shows

`logs.jsonl` only (`events.jsonl` is empty): a masked `OPENAI_API_KEY`, a redacted OpenAI key
prefix, a truncated Anthropic key, a request id of 32 hex digits, an `AIza` prefix on its own,
a short `gsk_` string, bare prefixes of the other formats (`xai-`, `pplx-`, `r8_`, `sk-or-v1-`,
`lsv2_pt_`, `hf_`, `ABSK`, `csk-`, `sk-ant-admin01-`) and a truncated legacy OpenAI key: each a
near miss of a provider format.

## Expected

`llm-key-material-in-logs` raises nothing.
"""
    return ds


BUILDERS = [
    volume_tokens_hour_burst, volume_token_drain,
    network_new_asn_burst, network_public_leak_fanout, network_busy_fleet,
    auth_address_spray,
    probing_model_probing, probing_benign_errors,
    agents_new_family, agents_sdk_upgrade,
    keys_expired_key_use, keys_shared_key,
    inventory_stale_keys, inventory_fresh_keys,
    leaks_ci_key_material, leaks_clean_logs,
]

LOG_FIELDS = ["time", "host", "source", "pipeline", "repository", "message"]


def write(ds):
    hc.README_TAIL = TAIL
    hc.write(ds)
    folder = os.path.join(hc.HERE, *ds.name.split("/"))
    if ds.logs is not None:
        with open(os.path.join(folder, "logs.jsonl"), "w", encoding="utf-8", newline="\n") as f:
            for row in ds.logs:
                f.write(json.dumps(dict(zip(LOG_FIELDS, row)), separators=(",", ":")) + "\n")


def main():
    if "last_used" not in hc.INVENTORY_ORDER:
        hc.INVENTORY_ORDER.append("last_used")
    for build in BUILDERS:
        ds = build()
        write(ds)
        folder = os.path.join(hc.HERE, *ds.name.split("/"))
        events = sum(1 for _ in open(os.path.join(folder, "events.jsonl"), encoding="utf-8"))
        print("%s: %d events%s" % (ds.name, events, ", %d log lines" % len(ds.logs) if ds.logs else ""))


if __name__ == "__main__":
    main()
