#!/usr/bin/env python3
"""Writes the datasets of the rate and prompt-length rules' tests (issue 15, time to detect) and checks them.

    python3 test-data/make_quality_datasets.py

Standard library only; it reuses the dataset writer of make_handcrafted.py (same fields, keys, callers,
documentation address ranges and licence). Every dataset has its own fixed seed, so running the script again
writes byte-identical files. After writing, it evaluates each dataset with a plain-Python reading of the rule it
exists for and exits non-zero when a dataset does not show what its README promises.
"""

import sys
from datetime import timedelta

from make_handcrafted import Dataset, at, chat_tokens, days, load, write, HERE, volume_rpm_burst

import os


def long_prompt(rng):
    return lambda: (rng.randint(40_000, 120_000), rng.randint(500, 3_000))


def rag_prompt(rng):
    return lambda: (rng.randint(33_000, 90_000), rng.randint(300, 1_200))


def volume_long_prompts():
    ds = Dataset("volume/long-prompts", 1501, "lp", ["svc-chat-prod"],
                 "A thief uses a chat key slowly with huge prompts, from a network seen once before")
    rng = ds.rng
    short = chat_tokens(rng)
    # Five weeks of the chat service around the clock: two requests an hour, prompts of 300-1,500 tokens.
    for day in days("2026-10-26", "2026-11-30"):
        for hour in range(24):
            if day == at("2026-11-30 00:00") and hour >= 6:
                break
            for minute in sorted(rng.sample(range(60), 2)):
                ds.minute(day + timedelta(hours=hour, minutes=minute), 1,
                          "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", short)
    # An earlier, short episode from the thief's network (a leak nobody acted on): ordinary prompt lengths.
    for m in range(10):
        ds.minute(at("2026-11-10 14:00") + timedelta(minutes=m), 3,
                  "svc-chat-prod", "attacker-ro", "gpt-4o-mini", "chat", short)
    # The attack: one request every 4-6 minutes with a 40k-120k-token prompt, 02:10-05:00 on 2026-11-30.
    t = at("2026-11-30 02:10")
    while t < at("2026-11-30 05:00"):
        ds.minute(t, 1, "svc-chat-prod", "attacker-ro", "gpt-4o-mini", "chat", long_prompt(rng))
        t += timedelta(minutes=rng.randint(4, 6))
    ds.labels = [{"scenario": "low-and-slow-long-prompts", "key_id": "svc-chat-prod",
                  "start": "2026-11-30T02:10:00Z", "end": "2026-11-30T05:00:00Z"}]
    ds.readme = """# volume/long-prompts

A thief uses a chat key slowly, one request every few minutes with a huge prompt, from a network the
key has already been used from once: the rate and the country look ordinary, the prompt lengths do not.

## What the data shows

- Key `svc-chat-prod` (service `chat-api`, prod, OpenAI `gpt-4o-mini`, operation `chat`).
- 2026-10-26 to 2026-11-30 06:00 UTC, every hour: two requests from the service's own callers
  (203.0.113.10, US, AS64500) with prompts of 300-1,500 tokens. The key never sends a prompt of
  32,000 tokens or more, so its long-prompt profile is zero in every hour of the day.
- 2026-11-10 14:00-14:09: an earlier episode from 198.51.100.77 (RO, AS64510,
  `python-requests/2.32.3`) with ordinary prompts, 30 requests: the thief's country and network are
  already in the key's 30-day history, so the new-country and new-ASN rules stay quiet.
- 2026-11-30 02:10-05:00: from the same address, one request every 4-6 minutes with a prompt of
  40,000-120,000 tokens.

## Expected

`llm-key-long-prompts-above-profile` raises alerts for `svc-chat-prod` from the run after the hour
holds four long prompts (about 02:30 UTC: 4 >= the floor of 4 and 4 > 4 x 0) until the attack's last
hour has left the lookback (06:10 at the latest, with Sentinel's delay), and none before.
`labels.json` marks the attack (scenario `low-and-slow-long-prompts`).
"""
    return ds


def volume_long_prompts_rag():
    ds = Dataset("volume/long-prompts-rag", 1502, "lr", ["svc-chat-prod", "svc-report-prod"],
                 "A reporting key that always sends long prompts, and a chat key with one long-prompt hour")
    rng = ds.rng
    short = chat_tokens(rng)
    rag = rag_prompt(rng)
    for day in days("2026-10-26", "2026-11-30"):
        for hour in range(24):
            start = day + timedelta(hours=hour)
            # The reporting service retrieves documents into every prompt: 6-12 long prompts an hour.
            for minute in sorted(rng.sample(range(60), rng.randint(6, 12))):
                ds.minute(start + timedelta(minutes=minute), 1,
                          "svc-report-prod", "report-servers", "claude-sonnet-4-5", "chat", rag)
            for minute in sorted(rng.sample(range(60), 2)):
                ds.minute(start + timedelta(minutes=minute), 1,
                          "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", short)
    # A busy reporting hour: 20 more long prompts, under four times the usual 9 an hour.
    for minute in sorted(rng.sample(range(60), 20)):
        ds.minute(at("2026-11-30 10:00") + timedelta(minutes=minute), 1,
                  "svc-report-prod", "report-servers", "claude-sonnet-4-5", "chat", rag)
    # The chat key pastes three long documents in one hour: under the floor of four.
    for minute in (12, 31, 47):
        ds.minute(at("2026-11-30 15:00") + timedelta(minutes=minute), 1,
                  "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", long_prompt(rng))
    ds.labels = []
    ds.readme = """# volume/long-prompts-rag

Two keys whose long prompts are their own habit, not an attack: no alert is expected.

## What the data shows

- 2026-10-26 to 2026-11-30, every hour.
- Key `svc-report-prod` (service `report-api`, Anthropic `claude-sonnet-4-5`): a retrieval service,
  6-12 prompts of 33,000-90,000 tokens an hour from 203.0.113.40. On 2026-11-30 10:00-10:59 a busy
  hour of 20 more long prompts.
- Key `svc-chat-prod` (service `chat-api`, OpenAI `gpt-4o-mini`): two short prompts an hour from
  203.0.113.10; on 2026-11-30 15:00-15:59 three prompts of 40,000-120,000 tokens from the same callers.

## Expected

`llm-key-long-prompts-above-profile` raises nothing: the reporting key's busy hour (about 29 long
prompts with the usual ones) stays under four times its profile of about 9 an hour, and the chat key's
three long prompts are under the floor of four. `labels.json` is empty.
"""
    return ds


def volume_batch_starts_early():
    ds = Dataset("volume/batch-starts-early", 1503, "be", ["svc-chat-prod"],
                 "A nightly batch that starts a few minutes before its usual hour")
    rng = ds.rng
    tok = chat_tokens(rng, 600, 1200, 100, 300)
    for day in days("2026-10-26", "2026-11-30"):
        # Midnight UTC: a sampled quiet minute, so the 00:00 slot has a history of its own.
        ds.minute(day + timedelta(minutes=rng.randint(0, 40)), rng.randint(2, 5),
                  "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", chat_tokens(rng))
        # The nightly batch: five minutes at 28-32 requests a minute, starting 01:00-01:10 UTC; on the last
        # night at 00:50, in the quiet hour before.
        start = at("2026-11-30 00:50") if day == at("2026-11-30 00:00") else day + timedelta(hours=1, minutes=rng.randint(0, 10))
        for m in range(5):
            ds.minute(start + timedelta(minutes=m), rng.randint(28, 32),
                      "svc-chat-prod", "batch-runner", "gpt-4o-mini", "chat", tok)
        if day.weekday() >= 5:
            continue
        for hour in range(9, 17):
            ds.minute(day + timedelta(hours=hour, minutes=rng.randint(0, 59)), rng.randint(5, 15),
                      "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", chat_tokens(rng))
    ds.labels = []
    ds.readme = """# volume/batch-starts-early

A nightly batch that one night starts ten minutes before its usual hour: no alert is expected.

## What the data shows

- Key `svc-chat-prod` (service `chat-api`, prod, OpenAI `gpt-4o-mini`, operation `chat`),
  2026-10-26 through 2026-11-30.
- Every night a quiet minute of 2-5 requests between 00:00 and 00:40 UTC (so the 00:00 slot has a
  history), and the batch from 203.0.113.20 (`batch-runner/2.1`): five minutes at 28-32 requests a
  minute, starting 01:00-01:10 UTC; on 2026-11-30 it starts at 00:50, in the quiet hour before.
- Weekday daytime, 09:00-17:00 UTC: one sampled minute an hour at 5-15 requests.

## Expected

`llm-key-rpm-above-baseline` raises nothing: the early batch's five minutes (about 150 requests) are
far above the 00:00 slot's usual five minutes, but the rule also reads the slots of the hours either side
(`neighbours: 1`), and the 01:00 slot expects the batch. Without the neighbours it would alert.
`labels.json` is empty.
"""
    return ds


def volume_rpm_burst_tuned():
    ds = volume_rpm_burst()
    ds.name = "volume/rpm-burst-tuned"
    ds.labels = []
    inventory = ds.inventory_text
    ds.inventory_text = lambda: inventory().replace(
        "keys:\n",
        "# The chat-api team raised the floors of the baseline rules for its service tenfold.\n"
        "services:\n  - name: chat-api\n    tuning: {floor_scale: 10}\nkeys:\n", 1)
    ds.readme = """# volume/rpm-burst-tuned

The events of `volume/rpm-burst` (a stolen chat key bursting to 90 requests a minute), with an inventory
in which the key's service raised its baseline floors: an override in the inventory, not in the rule,
silences the rule for that service.

## What the data shows

- `events.jsonl` is byte for byte that of `volume/rpm-burst` (same builder, same seed).
- `inventory.yaml` adds a `services` list: service `chat-api` has `tuning: {floor_scale: 10}`; key
  `svc-chat-prod` belongs to it and inherits it.

## Expected

`llm-key-rpm-above-baseline` raises nothing: the burst's 270 requests in five minutes are over four times
the slot's baseline and over the rule's floor of 100, so `volume/rpm-burst` alerts, but not over the
tuned floor of 100 x 10 = 1,000. `labels.json` is empty: here the burst is what the team accepted.
"""
    return ds


BUILDERS = [volume_long_prompts, volume_long_prompts_rag, volume_batch_starts_early, volume_rpm_burst_tuned]


def long_prompt_alerts(events):
    """Hours (per key) with at least 4 prompts of 32k+ tokens and more than 4x the key's trimmed mean for the
    hour of day over the 30 days before the hour's day (hours with traffic but no long prompt count 0)."""
    counts = {}
    for e in events:
        if e["status"] < 400 and e["operation"] == "chat":
            k = (e["key_id"], e["t"].replace(minute=0, second=0, microsecond=0))
            counts[k] = counts.get(k, 0) + (1 if e["input_tokens"] >= 32_000 else 0)
    alerts = []
    for (key, hour), value in counts.items():
        day = hour.replace(hour=0)
        past = sorted(v for (k, h), v in counts.items()
                      if k == key and h.hour == hour.hour and day - timedelta(days=30) < h < day)
        if len(past) < 3:
            continue
        baseline = (sum(past) - past[-1]) / (len(past) - 1)
        if value >= 4 and value > 4 * baseline:
            alerts.append((key, hour))
    return sorted(alerts)


def five_minute_alerts(events, neighbours):
    """llm-key-rpm-above-baseline on 5-minute buckets, with or without the neighbouring hours' slots."""
    buckets = {}
    for e in events:
        if e["status"] != 429:
            t = e["t"]
            k = (e["key_id"], t.replace(minute=t.minute - t.minute % 5, second=0, microsecond=0))
            buckets[k] = buckets.get(k, 0) + 1
    peaks = {}
    for (key, b), v in buckets.items():
        h = (key, b.replace(minute=0))
        peaks[h] = max(peaks.get(h, 0), v)

    def slot(key, day, hour_of_week):
        past = sorted(v for (k, h), v in peaks.items()
                      if k == key and (h.weekday() * 24 + h.hour) == hour_of_week and day - timedelta(days=30) < h < day)
        return ((sum(past) - past[-1]) / (len(past) - 1), len(past)) if len(past) >= 3 else (None, len(past))

    alerts = []
    for (key, b), v in buckets.items():
        day = b.replace(hour=0, minute=0)
        how = b.weekday() * 24 + b.hour
        base, n = slot(key, day, how)
        if base is None:
            continue
        for d in range(-neighbours, neighbours + 1):
            other, _ = slot(key, day, (how + d) % 168)
            if other is not None:
                base = max(base, other)
        if v >= 100 and v > 4 * base:
            alerts.append((key, b))
    return sorted(alerts)


def check():
    ok = True

    def expect(cond, what):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + what)
        ok = ok and cond

    folder = lambda name: os.path.join(HERE, *name.split("/"))
    lp = long_prompt_alerts(load(folder("volume/long-prompts")))
    expect([a for a in lp if a[1] == at("2026-11-30 02:00")] != [] and all(a[1] >= at("2026-11-30 02:00") for a in lp),
           "volume/long-prompts: the long-prompt rule alerts in the attack's first hour and never before: %s" % lp)
    rag = long_prompt_alerts(load(folder("volume/long-prompts-rag")))
    expect(rag == [], "volume/long-prompts-rag: the long-prompt rule raises nothing: %s" % rag)
    early = load(folder("volume/batch-starts-early"))
    expect(five_minute_alerts(early, 1) == [], "volume/batch-starts-early: no rate alert with neighbours")
    expect(five_minute_alerts(early, 0) != [], "volume/batch-starts-early: without neighbours the early batch would alert")
    burst = load(folder("volume/rpm-burst"))
    tuned = load(folder("volume/rpm-burst-tuned"))
    expect([e["request_id"] for e in burst] == [e["request_id"] for e in tuned] and five_minute_alerts(burst, 1) != [],
           "volume/rpm-burst-tuned: the events of volume/rpm-burst, on which the default floor alerts")
    return ok


def main():
    for build in BUILDERS:
        write(build())
    if not check():
        print("self-check FAILED")
        sys.exit(1)
    print("self-check passed")


if __name__ == "__main__":
    main()
