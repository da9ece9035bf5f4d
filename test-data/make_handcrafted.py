#!/usr/bin/env python3
"""Writes the ten handcrafted datasets under test-data/ and checks them.

    python3 test-data/make_handcrafted.py

Standard library only. Every dataset has its own fixed seed, so running the script
again writes byte-identical files. After writing, the script re-reads every folder,
validates it against the dataset contract in DESIGN.md (all fields on every line,
times ascending, unique request ids, every key in the inventory), evaluates the five
rules the datasets exist for with a plain-Python reference implementation, and
exits non-zero if any dataset does not produce exactly the alerts it promises.

All data is synthetic and made for this repository (Apache-2.0). Addresses come from
the documentation ranges (RFC 5737) and autonomous system numbers from the
documentation ranges (RFC 5398); keys are ids, never secrets.
"""

import json
import os
import random
import re
import sys
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))

FIELDS = [
    "time", "key_id", "service", "env", "client_ip", "country", "asn", "user_agent",
    "provider", "model", "operation", "input_tokens", "output_tokens", "status",
    "latency_ms", "cost_usd", "request_id",
]

# USD per million tokens (input, output): list prices, rounded; used only to fill cost_usd.
PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o1-pro": (150.00, 600.00),
    "text-embedding-3-small": (0.02, 0.0),
}

# --- keys (what the inventory says about them) ------------------------------------

KEYS = {
    "svc-chat-prod": {
        "provider": "openai", "owner": "maria.lopez@example.com", "team": "conversation",
        "service": "chat-api", "env": "prod", "oncall": "pagerduty:chat-oncall",
        "created": "2026-03-02", "expires": "2027-03-01", "rotated": "2026-09-01",
        "models": ["gpt-4o-mini"], "operations": ["chat"], "countries": ["US"],
    },
    "svc-embed-prod": {
        "provider": "openai", "owner": "dana.kim@example.com", "team": "search",
        "service": "search-api", "env": "prod", "oncall": "pagerduty:search-oncall",
        "created": "2026-06-01", "expires": "2027-06-01", "rotated": "2026-09-15",
        "models": ["text-embedding-3-small"], "operations": ["embeddings"], "countries": ["US"],
    },
    "svc-new-key": {
        "provider": "openai", "owner": "lea.martin@example.com", "team": "support",
        "service": "support-bot", "env": "prod", "oncall": "slack:support-oncall",
        "created": "2026-11-30", "expires": "2027-05-30", "rotated": "2026-11-30",
        "models": ["gpt-4o-mini"], "operations": ["chat"], "countries": ["FR"],
    },
    "svc-undeclared": {
        "provider": "openai", "owner": "sam.okafor@example.com", "team": "analytics",
        "service": "report-writer", "env": "prod", "oncall": "slack:analytics-oncall",
        "created": "2026-05-11", "expires": "2027-05-10", "rotated": "2026-08-20",
        # no models list: the model rule does not judge this key
        "operations": ["chat"], "countries": ["US"],
    },
    "svc-empty-models": {
        "provider": "openai", "owner": "ivan.petrov@example.com", "team": "labs",
        "service": "prototype-lab", "env": "dev", "oncall": "slack:labs-oncall",
        "created": "2026-10-01", "expires": "2027-01-31", "rotated": "2026-10-01",
        "models": [],  # an empty list is not judged either
        "operations": ["chat"], "countries": ["US"],
    },
    "svc-report-prod": {
        "provider": "anthropic", "owner": "noor.haddad@example.com", "team": "finance-data",
        "service": "report-api", "env": "prod", "oncall": "pagerduty:finance-data-oncall",
        "created": "2026-04-14", "expires": "2027-04-14", "rotated": "2026-10-14",
        "models": ["claude-sonnet-4-5"], "operations": ["chat"], "countries": ["US", "GB"],
    },
    "svc-support-prod": {
        "provider": "azure_openai", "owner": "lea.martin@example.com", "team": "support",
        "service": "support-bot", "env": "prod", "oncall": "slack:support-oncall",
        "created": "2026-02-02", "expires": "2027-02-01", "rotated": "2026-08-03",
        "models": ["gpt-4o-mini"], "operations": ["chat"], "countries": ["FR", "DE"],
    },
    "legacy-batch-key": {
        "provider": "openai", "owner": "ops-batch@example.com", "team": "platform",
        "service": "nightly-batch", "env": "prod", "oncall": "pagerduty:platform-oncall",
        "created": "2024-01-15",  # no expires: the inventory rule must flag it
        "rotated": "2025-01-15",
        "models": ["gpt-4o-mini"], "operations": ["chat", "embeddings"], "countries": ["US"],
    },
    "svc-ownerless": {
        "provider": "openai", "owner": "", "team": "growth",  # empty owner: flagged
        "service": "growth-experiments", "env": "staging", "oncall": "slack:growth-oncall",
        "created": "2026-07-07", "expires": "2027-01-07", "rotated": "2026-07-07",
        "models": ["gpt-4o-mini"], "operations": ["chat"], "countries": ["US"],
    },
}

INVENTORY_ORDER = ["provider", "owner", "team", "service", "env", "oncall", "created",
                   "expires", "rotated", "models", "operations", "countries"]

# --- callers (where requests come from) -------------------------------------------

CLIENTS = {
    "chat-servers": ("203.0.113.10", "US", 64500, "OpenAI/Python 1.54.0"),
    "batch-runner": ("203.0.113.20", "US", 64500, "batch-runner/2.1"),
    "search-servers": ("203.0.113.30", "US", 64500, "OpenAI/Python 1.54.0"),
    "report-servers": ("203.0.113.40", "US", 64500, "OpenAI/JS 4.73.0"),
    "lab-laptop": ("203.0.113.41", "US", 64500, "OpenAI/Python 1.54.0"),
    "chat-servers-de": ("203.0.113.50", "DE", 64502, "OpenAI/Python 1.54.0"),
    "support-fr": ("198.51.100.60", "FR", 64505, "OpenAI/JS 4.73.0"),
    "attacker-ro": ("198.51.100.77", "RO", 64510, "python-requests/2.32.3"),
    "attacker-br": ("198.51.100.40", "BR", 64511, "curl/8.5.0"),
    "attacker-nl": ("198.51.100.23", "NL", 64509, "python-requests/2.32.3"),
    "attacker-sg": ("198.51.100.99", "SG", 64507, "python-requests/2.31.0"),
}

UTC = timezone.utc


def at(text):
    """'2026-11-30 03:17' -> aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def days(first, last):
    d = datetime.strptime(first, "%Y-%m-%d").replace(tzinfo=UTC)
    end = datetime.strptime(last, "%Y-%m-%d").replace(tzinfo=UTC)
    while d <= end:
        yield d
        d += timedelta(days=1)


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


class Dataset:
    def __init__(self, name, seed, id_prefix, keys, title):
        self.name = name
        self.rng = random.Random(seed)
        self.id_prefix = id_prefix
        self.keys = keys
        self.title = title
        self.events = []  # (datetime, insertion order, dict without time/request_id)
        self.labels = None
        self.inventory_overrides = {}

    # One request. Refused requests (status >= 400) carry no tokens and no cost.
    def request(self, when, key, client, model, operation, tokens=(0, 0), status=200):
        ip, country, asn, ua = CLIENTS[client]
        k = KEYS[key]
        inp, out = tokens if status < 400 else (0, 0)
        rng = self.rng
        if status >= 400:
            latency = rng.randint(15, 90)
        elif operation == "embeddings":
            latency = rng.randint(40, 180)
        else:
            latency = 250 + out * rng.randint(6, 12) + rng.randint(0, 150)
        pin, pout = PRICES.get(model, (0.0, 0.0))
        cost = round((inp * pin + out * pout) / 1_000_000, 6)
        ev = {
            "key_id": key, "service": k["service"], "env": k["env"],
            "client_ip": ip, "country": country, "asn": asn, "user_agent": ua,
            "provider": k["provider"], "model": model, "operation": operation,
            "input_tokens": inp, "output_tokens": out, "status": status,
            "latency_ms": latency, "cost_usd": cost,
        }
        self.events.append((when, len(self.events), ev))

    # n requests spread at random over the minute starting at `start`.
    def minute(self, start, n, key, client, model, operation, tokens, status=200):
        for ms in sorted(self.rng.sample(range(60_000), n)):
            t = tokens() if callable(tokens) else tokens
            self.request(start + timedelta(milliseconds=ms), key, client, model, operation, t, status)

    def lines(self):
        out = []
        for i, (when, _, ev) in enumerate(sorted(self.events, key=lambda e: (e[0], e[1])), 1):
            row = {"time": rfc3339(when)}
            row.update(ev)
            row["request_id"] = "%s-%06d" % (self.id_prefix, i)
            out.append(json.dumps({f: row[f] for f in FIELDS}, separators=(",", ":")))
        return out

    def inventory_text(self):
        lines = ["# Key inventory for test-data/%s (synthetic; see README.md)." % self.name, "keys:"]
        for key in self.keys:
            entry = dict(KEYS[key])
            entry.update(self.inventory_overrides.get(key, {}))
            lines.append("  - id: %s" % key)
            for field in INVENTORY_ORDER:
                if field not in entry:
                    continue
                v = entry[field]
                if isinstance(v, list):
                    text = "[" + ", ".join(v) + "]"
                elif v == "" or ":" in v:
                    text = json.dumps(v)
                else:
                    text = v
                lines.append("    %s: %s" % (field, text))
        return "\n".join(lines) + "\n"


def chat_tokens(rng, lo_in=300, hi_in=1500, lo_out=50, hi_out=400):
    return lambda: (rng.randint(lo_in, hi_in), rng.randint(lo_out, hi_out))


def embed_tokens(rng):
    return lambda: (rng.randint(40, 600), 0)


README_TAIL = """
## Provenance and licence

Synthetic, made for this repository: no real traffic, keys, people or networks.
`test-data/make_handcrafted.py` (Python 3 standard library, fixed seed per dataset)
wrote every file in this folder; `python3 test-data/make_handcrafted.py` rewrites them
byte for byte and re-checks every dataset against the rules it is meant for. Licensed
like the rest of the repository, under Apache-2.0.

Addresses are from the documentation ranges of RFC 5737 (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24), AS numbers from the documentation ranges of RFC 5398
(64496-64511), e-mail addresses use `example.com`; each event carries its own
`country` and `asn`, so no GeoIP file is needed. Key ids are ids, never secrets.
`cost_usd` is tokens times a rounded list price; refused requests (status >= 400) carry
zero tokens and zero cost.
"""


# ==================================================================================
# 1. volume
# ==================================================================================

def volume_rpm_burst():
    ds = Dataset("volume/rpm-burst", 1101, "rb", ["svc-chat-prod"],
                 "A stolen chat key bursts to 90 requests a minute")
    rng = ds.rng
    tok = chat_tokens(rng)
    # Every Monday the chat service's sync job runs 03:00-03:10 UTC at 8-12 requests a minute.
    for monday in ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]:
        peak_minute = rng.randint(0, 10)
        for m in range(11):
            n = 12 if m == peak_minute else rng.randint(8, 11)
            ds.minute(at(monday + " 03:00") + timedelta(minutes=m), n,
                      "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", tok)
    # The attack: 90 requests a minute, 03:17-03:21 on Monday 2026-11-30.
    for m in range(5):
        ds.minute(at("2026-11-30 03:17") + timedelta(minutes=m), 90,
                  "svc-chat-prod", "attacker-ro", "gpt-4o-mini", "chat", tok)
    ds.labels = [{"scenario": "volume-burst", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T03:17:00Z", "end": "2026-11-30T03:22:00Z"}]
    ds.readme = """# volume/rpm-burst

A stolen chat key bursts to 90 requests a minute, far above its own hour-of-week baseline.

## What the data shows

- Key `svc-chat-prod` (service `chat-api`, prod, OpenAI `gpt-4o-mini`, operation `chat`).
- History: every Monday from 2026-10-26 to 2026-11-23, 03:00-03:10 UTC, the service's own
  callers (203.0.113.10, US, AS64500, `OpenAI/Python 1.54.0`) make 8-12 requests a minute;
  the busiest minute of each of those hours is exactly 12. The key is idle otherwise, so the
  Monday 03:00 hour-of-week slot has four past hours in the 30-day window (11-02 to 11-23).
- Monday 2026-11-30: the usual 03:00-03:10 traffic, then 03:17-03:21 UTC 90 requests a minute
  (450 in all) from 198.51.100.77 (RO, AS64510, `python-requests/2.32.3`) on the same key
  and model.

## Expected

`llm-key-rpm-above-baseline` raises one alert for `svc-chat-prod` between 03:17 and 03:35
UTC: 90 >= 60 and 90 > 5 x 12. `labels.json` marks the burst (scenario `volume-burst`).
The burst also comes from a country the key never used, with well over 20,000 tokens,
so `llm-key-new-country-high-tokens` fires on it too (a true positive, same label).
"""
    return ds


def volume_benign_month():
    ds = Dataset("volume/benign-month", 1102, "bm", ["svc-chat-prod"],
                 "A month of a chat key with a nightly batch job: nothing to alert on")
    rng = ds.rng
    for day in days("2026-10-26", "2026-11-30"):
        # Nightly batch, every day of the week: ~150 requests in one minute of 02:00-02:20.
        ds.minute(day + timedelta(hours=2, minutes=rng.randint(0, 20)), rng.randint(142, 158),
                  "svc-chat-prod", "batch-runner",
                  "gpt-4o-mini", "chat", chat_tokens(rng, 600, 1200, 100, 300))
        if day.weekday() >= 5:
            continue
        # Weekday daytime 09:00-17:00: one sampled minute an hour at 5-15 requests.
        for hour in range(9, 17):
            ds.minute(day + timedelta(hours=hour, minutes=rng.randint(0, 59)), rng.randint(5, 15),
                      "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", chat_tokens(rng))
    ds.labels = []
    ds.readme = """# volume/benign-month

Five weeks of an ordinary chat key with a nightly batch job: no alert is expected.

## What the data shows

- Key `svc-chat-prod` (service `chat-api`, prod, OpenAI `gpt-4o-mini`, operation `chat`),
  2026-10-26 (a Monday) through 2026-11-30 (a Monday) inclusive.
- Nightly batch job, every day including weekends: 142-158 requests within one minute of
  the 02:00-02:20 UTC window from 203.0.113.20 (US, AS64500, `batch-runner/2.1`).
- Weekday daytime, 09:00-17:00 UTC: one sampled minute an hour at 5-15 requests a minute
  from the service (203.0.113.10, `OpenAI/Python 1.54.0`). Weekends have only the batch.

The batch is the trap: its minute is ~100x the key's mean rate, so a rule comparing with a
30-day mean fires every night, while the hour-of-week baseline (the busiest minute of the
same hour in past weeks, weekday/weekend hour-of-day as fallback) expects it.

Scale note: a batch of 150 requests a minute for all twenty minutes every night would be
about 113,000 lines (~40 MB). The rule only sees the busiest minute of each hour, so here
each night's run is one minute at ~150 requests, and the daytime is one sampled minute an
hour: the same shape as far as the rule can tell, in about 7,500 lines.

## Expected

`llm-key-rpm-above-baseline` raises nothing. The generator checks this itself: it
evaluates the rule in Python on every minute (history = the hours before the minute's hour,
and, stricter, the hours before the minute's day as a daily-refreshed baseline table would
hold) and asserts zero minutes at >= 60 requests and > 5x baseline. `labels.json` is empty.
"""
    return ds


# ==================================================================================
# 2. network
# ==================================================================================

def weekday_hours(first, last):
    for day in days(first, last):
        if day.weekday() < 5:
            for hour in range(9, 17):
                yield day + timedelta(hours=hour)


def network_new_country_burst():
    ds = Dataset("network/new-country-burst", 1201, "nc", ["svc-chat-prod"],
                 "A chat key used from a new country with 69,000 tokens in six minutes")
    rng = ds.rng
    tok = chat_tokens(rng, 300, 1200, 80, 400)
    for hour in weekday_hours("2026-11-02", "2026-11-30"):
        for m in sorted(rng.sample(range(60), 2)):
            ds.request(hour + timedelta(minutes=m, seconds=rng.randint(0, 59)),
                       "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", tok())
    start = at("2026-11-30 14:02")
    for i in range(30):  # 5 a minute, 14:02-14:07
        ds.request(start + timedelta(seconds=12 * i, milliseconds=rng.randint(0, 9_999)),
                   "svc-chat-prod", "attacker-br", "gpt-4o-mini", "chat", (1500, 800))
    ds.labels = [{"scenario": "new-country-burst", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T14:02:00Z", "end": "2026-11-30T14:08:00Z"}]
    ds.readme = """# network/new-country-burst

A chat key suddenly used from a new country, 69,000 tokens in six minutes.

## What the data shows

- Key `svc-chat-prod` (service `chat-api`, prod, `gpt-4o-mini`, `chat`), inventory countries [US].
- History: every weekday 2026-11-02 to 2026-11-30, two requests in each hour 09:00-17:00
  UTC from 203.0.113.10 (US, AS64500).
- 2026-11-30 from 14:02 UTC: 30 requests within six minutes (five a minute) from
  198.51.100.40 (BR, AS64511, `curl/8.5.0`), each with 1,500 input and 800 output tokens:
  69,000 tokens from a country the key has not used in the previous 30 days.

## Expected

`llm-key-new-country-high-tokens` raises an alert for `svc-chat-prod` between 14:00 and
14:20 UTC (the 10 minutes after 14:02 hold all 69,000 BR tokens, > 20,000).
`labels.json` marks the burst (scenario `new-country-burst`).
"""
    return ds


def network_known_countries():
    ds = Dataset("network/known-countries", 1202, "kc", ["svc-chat-prod", "svc-new-key"],
                 "Heavy use from a known country, and a brand-new key: nothing to alert on")
    ds.inventory_overrides = {"svc-chat-prod": {"countries": ["US", "DE"]}}
    rng = ds.rng
    tok = chat_tokens(rng, 300, 1200, 80, 400)
    for hour in weekday_hours("2026-11-02", "2026-11-30"):
        for m in sorted(rng.sample(range(60), 2)):
            ds.request(hour + timedelta(minutes=m, seconds=rng.randint(0, 59)),
                       "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", tok())
        m = rng.randint(0, 59)
        ds.request(hour + timedelta(minutes=m, seconds=rng.randint(0, 59)),
                   "svc-chat-prod", "chat-servers-de", "gpt-4o-mini", "chat", tok())
    start = at("2026-11-30 14:00")
    for i in range(25):  # 25 x 2,000 tokens = 50,000 tokens, 14:00-14:09 from DE
        ds.request(start + timedelta(seconds=24 * i, milliseconds=rng.randint(0, 19_999)),
                   "svc-chat-prod", "chat-servers-de", "gpt-4o-mini", "chat", (1400, 600))
    start = at("2026-11-30 15:00")
    for i in range(15):  # the new key's first requests: 15 x 2,000 = 30,000 tokens from FR
        ds.request(start + timedelta(seconds=36 * i, milliseconds=rng.randint(0, 29_999)),
                   "svc-new-key", "support-fr", "gpt-4o-mini", "chat", (1300, 700))
    ds.labels = []
    ds.readme = """# network/known-countries

Heavy use from a country the key already uses, and a brand-new key: no alert is expected.

## What the data shows

- Key `svc-chat-prod` (service `chat-api`, prod, `gpt-4o-mini`, `chat`), inventory
  countries [US, DE]. Every weekday 2026-11-02 to 2026-11-30, 09:00-17:00 UTC, two requests
  an hour from 203.0.113.10 (US, AS64500) and one from 203.0.113.50 (DE, AS64502).
- 2026-11-30 14:00-14:10 UTC: 25 requests of 2,000 tokens (50,000 tokens) from the DE
  address. DE is in the key's last 30 days, so it is not a new country.
- Key `svc-new-key` (service `support-bot`, created 2026-11-30) makes its first requests
  ever on 2026-11-30 15:00-15:09 UTC from 198.51.100.60 (FR, AS64505): 15 requests,
  30,000 tokens. A key without earlier history is not judged.

## Expected

`llm-key-new-country-high-tokens` raises nothing. `labels.json` is empty.
"""
    return ds


# ==================================================================================
# 3. models
# ==================================================================================

def models_undeclared_model():
    ds = Dataset("models/undeclared-model", 1301, "um", ["svc-embed-prod"],
                 "An embeddings key used for chat with an undeclared model")
    rng = ds.rng
    for m in range(60):  # 08:00-09:00, two embeddings a minute
        ds.minute(at("2026-11-30 08:00") + timedelta(minutes=m), 2, "svc-embed-prod",
                  "search-servers", "text-embedding-3-small", "embeddings", embed_tokens(rng))
    start = at("2026-11-30 09:03")
    for i in range(12):  # 12 successful chat requests to gpt-4.1, 09:03-09:05
        ds.request(start + timedelta(seconds=15 * i, milliseconds=rng.randint(0, 9_999)),
                   "svc-embed-prod", "attacker-nl", "gpt-4.1", "chat",
                   (rng.randint(600, 900), rng.randint(200, 350)))
    start = at("2026-11-30 09:06")
    for i in range(3):  # 3 refused requests to o1-pro (404): not judged
        ds.request(start + timedelta(seconds=20 * i, milliseconds=rng.randint(0, 9_999)),
                   "svc-embed-prod", "attacker-nl", "o1-pro", "responses", status=404)
    ds.labels = [{"scenario": "undeclared-model", "key_id": "svc-embed-prod",
                  "start": "2026-11-30T09:03:00Z", "end": "2026-11-30T09:07:00Z"}]
    ds.readme = """# models/undeclared-model

An embeddings-only key used for chat with a model its inventory does not declare.

## What the data shows

- Key `svc-embed-prod` (service `search-api`, prod), inventory models
  [text-embedding-3-small], operations [embeddings].
- 2026-11-30 08:00-09:00 UTC: two `text-embedding-3-small` embeddings requests a minute from
  203.0.113.30 (US, AS64500, `OpenAI/Python 1.54.0`).
- 09:03-09:05 UTC: 12 `chat` requests to `gpt-4.1`, all status 200, from 198.51.100.23
  (NL, AS64509, `python-requests/2.32.3`), about 13,000 tokens in all (kept under 20,000,
  so only the model rule has something to say).
- 09:06-09:07 UTC: 3 `responses` requests to `o1-pro` from the same address, refused with
  status 404: not judged (status >= 400).

## Expected

`llm-key-model-outside-profile` raises an alert for `svc-embed-prod` between 09:00 and
09:15 UTC, for `gpt-4.1` only. `labels.json` marks the misuse (scenario `undeclared-model`).
"""
    return ds


def models_declared_models():
    ds = Dataset("models/declared-models", 1302, "dm",
                 ["svc-embed-prod", "svc-chat-prod", "svc-undeclared", "svc-empty-models"],
                 "Keys using only their declared models, or with no models list: nothing to alert on")
    ds.inventory_overrides = {"svc-chat-prod": {"models": ["gpt-4o-mini", "gpt-4.1-mini"]}}
    rng = ds.rng
    tok = chat_tokens(rng)
    base = at("2026-11-30 08:00")
    for m in range(120):  # 08:00-10:00
        t = base + timedelta(minutes=m)
        ds.minute(t, 1, "svc-embed-prod", "search-servers", "text-embedding-3-small",
                  "embeddings", embed_tokens(rng))
        if m % 2 == 0:
            model = "gpt-4.1-mini" if m % 6 == 0 else "gpt-4o-mini"
            ds.minute(t, 1, "svc-chat-prod", "chat-servers", model, "chat", tok)
        if m % 5 == 0:
            ds.minute(t, 1, "svc-undeclared", "report-servers", "gpt-4.1", "chat", tok)
        if m % 15 == 0:
            ds.minute(t, 1, "svc-empty-models", "lab-laptop", "gpt-4o", "chat", tok)
    # Two refused calls to a model svc-chat-prod does not declare: status 404, not judged.
    ds.minute(at("2026-11-30 09:12"), 2, "svc-chat-prod", "chat-servers", "gpt-4.1-nano",
              "chat", (0, 0), status=404)
    ds.labels = []
    ds.readme = """# models/declared-models

Keys that use only the models their inventory declares, or that declare none: no alert.

## What the data shows

2026-11-30 08:00-10:00 UTC:

- `svc-embed-prod` (search-api, models [text-embedding-3-small]): one embeddings request a
  minute with `text-embedding-3-small`.
- `svc-chat-prod` (chat-api, models [gpt-4o-mini, gpt-4.1-mini]): a chat request every two
  minutes, one in three with `gpt-4.1-mini`, the rest with `gpt-4o-mini`; and at 09:12 two
  requests to `gpt-4.1-nano` refused with status 404 (not judged: status >= 400).
- `svc-undeclared` (report-writer): no `models` field in its inventory entry; a `gpt-4.1`
  chat request every five minutes. Not judged.
- `svc-empty-models` (prototype-lab, dev): `models: []`; a `gpt-4o` chat request every
  fifteen minutes. Not judged either (an empty list declares nothing).

## Expected

`llm-key-model-outside-profile` raises nothing. `labels.json` is empty.
"""
    return ds


# ==================================================================================
# 4. inventory
# ==================================================================================

def inventory_incomplete_entries():
    ds = Dataset("inventory/incomplete-entries", 1401, "ie",
                 ["svc-chat-prod", "svc-embed-prod", "svc-report-prod", "legacy-batch-key",
                  "svc-ownerless"],
                 "Two inventory entries without an owner or an expiry")
    ds.readme = """# inventory/incomplete-entries

An inventory of five keys, two of which lack what an incident responder needs first.

## What the data shows

`inventory.yaml` only; `events.jsonl` is empty (the rule reads the inventory).

- `svc-chat-prod`, `svc-embed-prod`, `svc-report-prod`: complete (owner, expiry and the rest).
- `legacy-batch-key`: has an owner but no `expires` field at all.
- `svc-ownerless`: `owner: ""` (present but empty), with an expiry.

## Expected

`llm-key-missing-owner-or-expiry` (runs daily) raises one alert for `legacy-batch-key` and
one for `svc-ownerless` in 2026-11-30T00:00Z-2026-12-01T00:00Z, and none for the other three.
"""
    return ds


def inventory_complete_entries():
    ds = Dataset("inventory/complete-entries", 1402, "ce",
                 ["svc-chat-prod", "svc-embed-prod", "svc-report-prod", "svc-support-prod"],
                 "Four complete inventory entries: nothing to alert on")
    ds.readme = """# inventory/complete-entries

An inventory of four keys, each with an owner and an expiry: no alert is expected.

## What the data shows

`inventory.yaml` only; `events.jsonl` is empty. The keys are `svc-chat-prod` (openai),
`svc-embed-prod` (openai), `svc-report-prod` (anthropic) and `svc-support-prod`
(azure_openai); every entry has owner, team, service, env, oncall route name, created,
expires, rotated, models, operations and countries, and no key is expired on 2026-11-30.

## Expected

`llm-key-missing-owner-or-expiry` raises nothing.
"""
    return ds


# ==================================================================================
# 5. auth
# ==================================================================================

def normal_chat_hour(ds):
    tok = chat_tokens(ds.rng)
    for m in range(61):  # 09:30-10:30, two requests a minute
        ds.minute(at("2026-11-30 09:30") + timedelta(minutes=m), 2, "svc-chat-prod",
                  "chat-servers", "gpt-4o-mini", "chat", tok)


def auth_failure_burst():
    ds = Dataset("auth/failure-burst", 1501, "af", ["svc-chat-prod"],
                 "Forty refused requests in four minutes on a chat key")
    normal_chat_hour(ds)
    for m in range(4):  # 10:01-10:04, 10 a minute, all 401
        ds.minute(at("2026-11-30 10:01") + timedelta(minutes=m), 10, "svc-chat-prod",
                  "attacker-sg", "gpt-4o-mini", "chat", (0, 0), status=401)
    ds.labels = [{"scenario": "auth-failure-burst", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T10:01:00Z", "end": "2026-11-30T10:05:00Z"}]
    ds.readme = """# auth/failure-burst

Somebody tries a chat key forty times in four minutes and is refused every time.

## What the data shows

- Key `svc-chat-prod` (service `chat-api`, prod, `gpt-4o-mini`, `chat`).
- 2026-11-30 09:30-10:30 UTC: two successful (200) requests a minute from the service
  (203.0.113.10, US, AS64500, `OpenAI/Python 1.54.0`).
- 10:01-10:04 UTC: 40 requests (ten a minute) refused with status 401, from 198.51.100.99
  (SG, AS64507, `python-requests/2.31.0`); all fall in the 10:00-10:05 bucket.

## Expected

`llm-key-auth-failure-burst` raises an alert for `svc-chat-prod` between 10:00 and 10:10
UTC (40 >= 20 refusals in one 5-minute bucket). `labels.json` marks it
(scenario `auth-failure-burst`).
"""
    return ds


def auth_occasional_failures():
    ds = Dataset("auth/occasional-failures", 1502, "ao", ["svc-chat-prod"],
                 "A few refusals and a burst of rate limiting: nothing to alert on")
    rng = ds.rng
    normal_chat_hour(ds)
    # A few 401/403 scattered over the hour: never more than 3 in a 5-minute bucket.
    for hhmm, n, status in [("09:37", 1, 401), ("09:52", 2, 401), ("09:54", 1, 403),
                            ("10:12", 3, 401), ("10:26", 1, 403)]:
        ds.minute(at("2026-11-30 " + hhmm), n, "svc-chat-prod", "chat-servers",
                  "gpt-4o-mini", "chat", (0, 0), status=status)
    # A retry loop hits the rate limit: 12 x 429 a minute, 10:01-10:04 (48 in the bucket).
    for m in range(4):
        ds.minute(at("2026-11-30 10:01") + timedelta(minutes=m), 12, "svc-chat-prod",
                  "chat-servers", "gpt-4o-mini", "chat", (0, 0), status=429)
    ds.labels = []
    ds.readme = """# auth/occasional-failures

The same hour as `auth/failure-burst`, with ordinary failures only: no alert is expected.

## What the data shows

- Key `svc-chat-prod` (service `chat-api`, prod, `gpt-4o-mini`, `chat`), all requests from
  the service itself (203.0.113.10, US, AS64500, `OpenAI/Python 1.54.0`).
- 2026-11-30 09:30-10:30 UTC: two successful (200) requests a minute.
- A few refusals spread over the hour: 401 at 09:37 (1), 09:52 (2), 10:12 (3); 403 at
  09:54 (1) and 10:26 (1). At most 3 in any 5-minute bucket.
- 10:01-10:04 UTC: a retry loop hits the rate limit, 48 responses with status 429 in the
  10:00-10:05 bucket. 429 is throttling, not an authentication failure.

## Expected

`llm-key-auth-failure-burst` raises nothing. `labels.json` is empty.
"""
    return ds


BUILDERS = [
    volume_rpm_burst, volume_benign_month,
    network_new_country_burst, network_known_countries,
    models_undeclared_model, models_declared_models,
    inventory_incomplete_entries, inventory_complete_entries,
    auth_failure_burst, auth_occasional_failures,
]


def write(ds):
    folder = os.path.join(HERE, *ds.name.split("/"))
    os.makedirs(folder, exist_ok=True)

    def put(name, text):
        with open(os.path.join(folder, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    lines = ds.lines()
    put("events.jsonl", "".join(l + "\n" for l in lines))
    put("inventory.yaml", ds.inventory_text())
    if ds.labels is not None:
        put("labels.json", json.dumps(ds.labels, indent=2) + "\n")
    put("README.md", ds.readme.rstrip("\n") + "\n" + README_TAIL)


# ==================================================================================
# Checks: re-read what was written, validate it, and evaluate the rules.
# ==================================================================================

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TYPES = {"asn": int, "input_tokens": int, "output_tokens": int, "status": int,
         "latency_ms": (int, float), "cost_usd": (int, float)}


def parse_inventory(path):
    """A parser for exactly the regular YAML subset written above."""
    keys, cur = [], None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line == "keys:":
                continue
            m = re.match(r"^  - id: ([A-Za-z0-9._-]+)$", line)
            if m:
                cur = {"id": m.group(1)}
                keys.append(cur)
                continue
            m = re.match(r"^    ([a-z_]+): (.*)$", line)
            assert m and cur is not None, "%s:%d: unexpected line %r" % (path, n, line)
            field, value = m.groups()
            assert field not in cur, "%s:%d: duplicate %s" % (path, n, field)
            if value.startswith("["):
                assert value.endswith("]"), "%s:%d: bad list" % (path, n)
                inner = value[1:-1].strip()
                cur[field] = [v.strip() for v in inner.split(",")] if inner else []
            elif value.startswith('"'):
                cur[field] = json.loads(value)
            else:
                assert not re.search(r":\s|#|^[\[{&*!|>'%@`]", value), "%s:%d: needs quoting" % (path, n)
                cur[field] = value
    return keys


def load(folder):
    events = []
    with open(os.path.join(folder, "events.jsonl"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            ev = json.loads(line)
            assert list(ev) == FIELDS, "%s:%d: fields %s" % (folder, n, list(ev))
            assert TIME_RE.match(ev["time"]), "%s:%d: time %s" % (folder, n, ev["time"])
            for field, typ in TYPES.items():
                assert isinstance(ev[field], typ) and not isinstance(ev[field], bool), \
                    "%s:%d: %s type" % (folder, n, field)
            for field in FIELDS:
                if field not in TYPES:
                    assert isinstance(ev[field], str) and ev[field], "%s:%d: %s" % (folder, n, field)
            ev["t"] = datetime.strptime(ev["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            ev["tokens"] = ev["input_tokens"] + ev["output_tokens"]
            events.append(ev)
    for a, b in zip(events, events[1:]):
        assert a["time"] <= b["time"], "%s: times not ascending at %s" % (folder, b["request_id"])
    ids = [e["request_id"] for e in events]
    assert len(ids) == len(set(ids)), "%s: duplicate request_id" % folder
    return events


# --- the five rules, as the brief defines them --------------------------------------

RATE_OPS = {"chat", "completion", "responses", "embeddings", "images", "audio"}


def rpm_rule(events, history="hours-before"):
    """llm-key-rpm-above-baseline. Returns (alerts, stats).

    history='hours-before': the past hours before the minute's hour (within 30 days).
    history='days-before': only hours before the minute's UTC day (a daily-refreshed table).
    """
    per_minute = {}
    for e in events:
        if e["operation"] in RATE_OPS:
            k = (e["key_id"], e["t"].replace(second=0, microsecond=0))
            per_minute[k] = per_minute.get(k, 0) + 1
    peaks = {}
    for (key, minute), c in per_minute.items():
        hk = (key, minute.replace(minute=0))
        peaks[hk] = max(peaks.get(hk, 0), c)
    by_key = {}
    for (key, hour), p in peaks.items():
        by_key.setdefault(key, []).append((hour, p))
    alerts, worst = [], (0.0, None)
    for (key, minute), c in sorted(per_minute.items()):
        hour = minute.replace(minute=0)
        limit = hour if history == "hours-before" else minute.replace(hour=0, minute=0)
        past = [(h, p) for h, p in by_key[key] if minute - timedelta(days=30) <= h < limit]
        slot = [p for h, p in past if h.weekday() == hour.weekday() and h.hour == hour.hour]
        if len(slot) < 3:
            weekend = hour.weekday() >= 5
            slot = [p for h, p in past if (h.weekday() >= 5) == weekend and h.hour == hour.hour]
        if len(slot) < 3:
            continue
        baseline = max(slot)
        ratio = c / baseline
        if ratio > worst[0]:
            worst = (ratio, (key, minute, c, baseline))
        if c >= 60 and c > 5 * baseline:
            alerts.append((key, minute, c, baseline))
    return alerts, worst


def new_country_rule(events):
    alerts, by_key = [], {}
    for e in events:
        by_key.setdefault(e["key_id"], []).append(e)
    for key, evs in by_key.items():
        for i, e in enumerate(evs):
            if not any(p["t"] < e["t"] for p in evs[:i]):
                continue  # no earlier history for the key
            if any(p["country"] == e["country"] and e["t"] - timedelta(days=30) <= p["t"] < e["t"]
                   for p in evs[:i]):
                continue  # country seen in the previous 30 days
            tokens = sum(p["tokens"] for p in evs[i:]
                         if p["country"] == e["country"] and p["t"] <= e["t"] + timedelta(minutes=10))
            if tokens > 20_000:
                alerts.append((key, e["t"], e["country"], tokens))
    return alerts


def model_rule(events, inventory):
    declared = {k["id"]: k.get("models") or [] for k in inventory}
    seen = {}
    for e in events:
        models = declared.get(e["key_id"], [])
        if e["status"] < 400 and models and e["model"] not in models:
            seen.setdefault((e["key_id"], e["model"]), []).append(e["t"])
    return [(k, m, ts[0], len(ts)) for (k, m), ts in seen.items()]


def auth_rule(events):
    buckets = {}
    for e in events:
        if e["status"] in (401, 403):
            t = e["t"]
            b = (e["key_id"], t.replace(minute=t.minute - t.minute % 5, second=0, microsecond=0))
            buckets[b] = buckets.get(b, 0) + 1
    return [(k, b, c) for (k, b), c in sorted(buckets.items()) if c >= 20], buckets


def inventory_rule(inventory):
    return [k["id"] for k in inventory if not k.get("owner") or not k.get("expires")]


def check(names):
    ok = True

    def expect(cond, what):
        nonlocal ok
        print("  %s %s" % ("ok  " if cond else "FAIL", what))
        ok = ok and cond

    print("Validation and rule self-check")
    for name in names:
        folder = os.path.join(HERE, *name.split("/"))
        events = load(folder)
        inventory = parse_inventory(os.path.join(folder, "inventory.yaml"))
        inv_ids = [k["id"] for k in inventory]
        for k in inventory:
            for field in ("provider", "team", "service", "env", "oncall", "created", "rotated",
                          "operations", "countries"):
                assert field in k, "%s: %s lacks %s" % (name, k["id"], field)
            assert re.match(r"^(pagerduty|slack|teams|webhook):[a-z0-9-]+$", k["oncall"])
        size = os.path.getsize(os.path.join(folder, "events.jsonl"))
        print("%s: %d events, %d bytes, keys %s" % (name, len(events), size, ", ".join(inv_ids)))
        expect(len(inv_ids) == len(set(inv_ids)), "inventory ids unique")
        expect({e["key_id"] for e in events} <= set(inv_ids), "every event key is in the inventory")
        expect(all(ip_ok(e["client_ip"]) and asn_ok(e["asn"]) for e in events),
               "addresses and ASNs from documentation ranges")
        labels_path = os.path.join(folder, "labels.json")
        if os.path.exists(labels_path):
            with open(labels_path, encoding="utf-8") as f:
                labels = json.load(f)
            expect(all({"scenario", "key_id", "start", "end"} <= set(l) <= {"scenario", "key_id", "start", "end", "addresses"}
                       and l["key_id"] in inv_ids
                       for l in labels), "labels.json well formed (%d attack(s))" % len(labels))

        rpm, worst = rpm_rule(events)
        rpm_day, _ = rpm_rule(events, "days-before")
        nc = new_country_rule(events)
        mod = model_rule(events, inventory)
        auth, buckets = auth_rule(events)
        inv = inventory_rule(inventory)

        if name == "volume/rpm-burst":
            for a in (rpm, rpm_day):
                expect(a and all(k == "svc-chat-prod" and at("2026-11-30 03:17") <= m <= at("2026-11-30 03:21")
                                 for k, m, c, b in a),
                       "rpm rule: %d alerting minute(s) 03:17-03:21, count/baseline %s"
                       % (len(a), sorted({"%d/%d" % (c, b) for k, m, c, b in a})))
        elif name == "volume/benign-month":
            after = at("2026-11-02 00:00")
            minutes = {(e["key_id"], e["t"].replace(second=0, microsecond=0)) for e in events}
            busy = sum(1 for k, m in minutes if count_minute(events, k, m) >= 60)
            for label, a in (("history = hours before the minute's hour", rpm),
                             ("history = hours before the minute's day", rpm_day)):
                late = [x for x in a if x[1] >= after]
                expect(not late and not a, "rpm rule (%s): %d alerts after 2026-11-02, %d overall"
                       % (label, len(late), len(a)))
            r, (k, m, c, b) = worst
            print("  info %d minutes with requests, %d of them at >= 60/min (the nightly batch);"
                  " highest ratio %.2fx (%d vs baseline %d at %s)" % (len(minutes), busy, r, c, b, rfc3339(m)))
            naive = naive_mean_rule(events)
            print("  info a naive '> 5x the 30-day mean rpm' rule would fire on %d minutes" % naive)
        else:
            expect(not rpm, "rpm rule: no alert")

        if name == "network/new-country-burst":
            expect(nc and all(k == "svc-chat-prod" and c == "BR" and
                              at("2026-11-30 14:00") <= t <= at("2026-11-30 14:20") for k, t, c, tok in nc),
                   "new-country rule: BR first seen %s, %d tokens in 10 min"
                   % (rfc3339(nc[0][1]) if nc else "-", nc[0][3] if nc else 0))
        elif name == "volume/rpm-burst":
            expect([c for k, t, c, tok in nc] == ["RO"], "new-country rule: RO (same attack, true positive)")
        else:
            expect(not nc, "new-country rule: no alert")

        if name == "models/undeclared-model":
            expect([(k, m) for k, m, t, n in mod] == [("svc-embed-prod", "gpt-4.1")] and
                   at("2026-11-30 09:00") <= mod[0][2] <= at("2026-11-30 09:15"),
                   "model rule: svc-embed-prod gpt-4.1 from %s, %d requests (o1-pro 404s not judged)"
                   % (rfc3339(mod[0][2]), mod[0][3]))
        else:
            expect(not mod, "model rule: no alert")

        if name == "auth/failure-burst":
            expect([(k, b) for k, b, c in auth] == [("svc-chat-prod", at("2026-11-30 10:00"))],
                   "auth rule: %s" % ", ".join("%s %s x%d" % (k, rfc3339(b), c) for k, b, c in auth))
        else:
            expect(not auth, "auth rule: no alert (most 401/403 in a 5-minute bucket: %d)"
                   % max(buckets.values(), default=0))

        if name == "inventory/incomplete-entries":
            expect(sorted(inv) == ["legacy-batch-key", "svc-ownerless"], "inventory rule: %s" % inv)
        else:
            expect(not inv, "inventory rule: no alert")
    return ok


def count_minute(events, key, minute):
    return sum(1 for e in events if e["key_id"] == key and e["operation"] in RATE_OPS
               and e["t"].replace(second=0, microsecond=0) == minute)


def naive_mean_rule(events):
    """Counts minutes above 5x the mean requests-per-minute of the previous 30 days."""
    per_minute = {}
    for e in events:
        if e["operation"] in RATE_OPS:
            m = e["t"].replace(second=0, microsecond=0)
            per_minute[m] = per_minute.get(m, 0) + 1
    fired = 0
    for m, c in per_minute.items():
        total = sum(v for t, v in per_minute.items() if m - timedelta(days=30) <= t < m)
        mean = total / (30 * 24 * 60)
        if m >= at("2026-11-02 00:00") and c >= 60 and c > 5 * mean:
            fired += 1
    return fired


def ip_ok(ip):
    return any(ip.startswith(p) for p in ("192.0.2.", "198.51.100.", "203.0.113."))


def asn_ok(asn):
    return 64496 <= asn <= 64511 or 65536 <= asn <= 65551


def main():
    names = []
    for build in BUILDERS:
        ds = build()
        write(ds)
        names.append(ds.name)
    if not check(names):
        print("self-check FAILED")
        sys.exit(1)
    print("self-check passed")


if __name__ == "__main__":
    main()
