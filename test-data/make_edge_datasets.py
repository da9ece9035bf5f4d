#!/usr/bin/env python3
"""Writes the datasets of issue 15's bad-input cases, on which the whole library must raise nothing, and checks them.

    python3 test-data/make_edge_datasets.py

Standard library only; it reuses the dataset writer of make_handcrafted.py (same fields, keys, callers,
documentation address ranges and licence). Each dataset is twelve days of two ordinary keys plus one oddity: a key
with no history, a key only in the inventory, a day without any traffic, two gateways whose clocks disagree by a
few minutes, and events delivered more than once. `tests/KeyAbuseContent.Tests/Harness/LibraryEdgeCaseTests.cs`
runs every rule of the library over each on both targets and expects no alert and no parity difference. Every
dataset has its own fixed seed, so running the script again writes byte-identical files; after writing, the
script re-reads each folder and exits non-zero when a dataset does not hold the oddity its README describes.
"""

import gzip
import json
import os
import sys
from datetime import timedelta

from make_handcrafted import CLIENTS, Dataset, README_TAIL, at, chat_tokens, days, embed_tokens, parse_inventory, rfc3339, HERE, FIELDS

# A second gateway of the chat service, in the same network as the first.
CLIENTS.setdefault("chat-servers-b", ("203.0.113.11", "US", 64500, "OpenAI/Python 1.54.0"))

# A Monday to a Friday; the data ends 2026-11-28 00:00 UTC. Twelve days are enough for the baseline rules' weekday
# hour-of-day fallback to hold its minimum of samples (three) by the second week, so they judge the last days.
FIRST, LAST = "2026-11-16", "2026-11-27"
# Both keys were rotated a month before the data ends, so the inventory rules have nothing to say about them.
ROTATED = {"svc-chat-prod": {"rotated": "2026-10-15"}, "svc-embed-prod": {"rotated": "2026-10-20"}}


def established(ds, skip=None, chat_client=lambda when: "chat-servers"):
    """Twelve days of the chat key (daytime peaks, quiet nights, a nightly batch) and the embeddings key."""
    rng = ds.rng
    chat, batch, embed = chat_tokens(rng), chat_tokens(rng, 600, 1200, 100, 300), embed_tokens(rng)
    for day in days(FIRST, LAST):
        if skip is not None and day == skip:
            continue
        ds.minute(day + timedelta(hours=2, minutes=rng.randint(0, 20)), rng.randint(40, 60),
                  "svc-chat-prod", "batch-runner", "gpt-4o-mini", "chat", batch)
        weekday = day.weekday() < 5
        for hour in range(24):
            start = day + timedelta(hours=hour, minutes=rng.randint(0, 59))
            if weekday and 9 <= hour < 17:
                ds.minute(start, rng.randint(10, 20), "svc-chat-prod", chat_client(start), "gpt-4o-mini", "chat", chat)
                ds.minute(day + timedelta(hours=hour, minutes=rng.randint(0, 59)), rng.randint(5, 10),
                          "svc-embed-prod", "search-servers", "text-embedding-3-small", "embeddings", embed)
            elif hour != 2:
                ds.minute(start, rng.randint(1, 3), "svc-chat-prod", chat_client(start), "gpt-4o-mini", "chat", chat)


def new_dataset(name, seed, prefix, keys, title):
    ds = Dataset(name, seed, prefix, keys, title)
    ds.inventory_overrides = dict(ROTATED)
    ds.labels = []
    return ds


BASE = """- Keys `svc-chat-prod` (service `chat-api`, OpenAI `gpt-4o-mini`, chat) and `svc-embed-prod` (service
  `search-api`, `text-embedding-3-small`, embeddings), 2026-11-16 (a Monday) to 2026-11-28 00:00 UTC, from their
  own callers in 203.0.113.0/24 (US, AS64500): the chat key every hour (one sampled minute of 10-20 requests on
  weekday daytime, 1-3 otherwise) and a nightly batch of 40-60 requests in one minute of 02:00-02:20; the
  embeddings key one sampled minute of 5-10 requests an hour on weekday daytime. Both keys are complete in the
  inventory and were rotated in October."""

EXPECTED = """## Expected

No rule of the library raises anything, on Sentinel or Elastic, and the two targets return the same rows on
every run (`LibraryEdgeCaseTests`). `labels.json` is empty."""


def edge_new_key():
    ds = new_dataset("edge/new-key", 1601, "nk", ["svc-chat-prod", "svc-embed-prod", "svc-new-key"],
                     "A key with no history starts work")
    ds.inventory_overrides["svc-new-key"] = {"created": "2026-11-24", "rotated": "2026-11-24", "expires": "2027-05-24"}
    established(ds)
    rng = ds.rng
    tok = chat_tokens(rng)
    # The support bot goes live on Wednesday 2026-11-25 at 09:00 from its own network in France: from its first hour
    # it is as busy as the chat service at its peak, every daytime hour, and quieter at night.
    for day in days("2026-11-25", LAST):
        for hour in range(24):
            n = rng.randint(15, 30) if 9 <= hour < 17 else rng.randint(1, 4)
            if day == at("2026-11-25 00:00") and hour < 9:
                continue
            ds.minute(day + timedelta(hours=hour, minutes=rng.randint(0, 59)), n,
                      "svc-new-key", "support-fr", "gpt-4o-mini", "chat", tok)
    ds.readme = f"""# edge/new-key

A key with no history at all starts work in the last days of the data: baselines have nothing to compare it with,
and its country, network and user agent are all its first. Nothing here is an attack.

## What the data shows

{BASE}
- Key `svc-new-key` (service `support-bot`, created 2026-11-24, countries `[FR]`): its first request is on
  2026-11-25 at 09:00 UTC, from 198.51.100.60 (FR, AS64505, `OpenAI/JS 4.73.0`); then every daytime hour a
  sampled minute of 15-30 requests, 1-4 at night, to the data's end.

{EXPECTED}
"""
    return ds


def edge_inventory_only_key():
    ds = new_dataset("edge/inventory-only-key", 1602, "io", ["svc-chat-prod", "svc-embed-prod", "svc-support-prod"],
                     "A key known to the inventory never appears in the traffic")
    ds.inventory_overrides["svc-support-prod"] = {"created": "2026-11-16", "rotated": "2026-11-16", "expires": "2027-05-15"}
    established(ds)
    ds.readme = f"""# edge/inventory-only-key

A key is in the inventory but sends no request during the data: it was created eleven days before the data ends
and is not in use yet. No rule may mistake the absence of traffic for anything.

## What the data shows

{BASE}
- Key `svc-support-prod` (azure_openai, service `support-bot`, created and rotated 2026-11-16, expires
  2027-05-15, owner and on-call route filled): in `inventory.yaml` only.

{EXPECTED}
"""
    return ds


SILENT = at("2026-11-18 00:00")


def edge_silent_day():
    ds = new_dataset("edge/silent-day", 1603, "sd", ["svc-chat-prod", "svc-embed-prod"],
                     "A whole day without any traffic, then an ordinary day")
    established(ds, skip=SILENT)
    ds.readme = f"""# edge/silent-day

An outage: on Wednesday 2026-11-18 no key sends a single request, then Thursday is an ordinary day, nightly
batch included. A day with no traffic must neither break a rule nor make the next ordinary day look unusual.

## What the data shows

{BASE}
- 2026-11-18 00:00-24:00 UTC: no event at all (nightly batch included).

{EXPECTED}
"""
    return ds


SKEW = timedelta(minutes=4)


class SkewedDataset(Dataset):
    """The second chat gateway's clock runs ahead; lines are written in the order the requests really happened."""

    def lines(self):
        out = []
        ordered = sorted(self.events, key=lambda e: (e[0], e[1]))
        for i, (when, _, ev) in enumerate(ordered, 1):
            stamped = when + SKEW if ev["client_ip"] == CLIENTS["chat-servers-b"][0] else when
            row = {"time": rfc3339(stamped)}
            row.update(ev)
            row["request_id"] = "%s-%06d" % (self.id_prefix, i)
            out.append(json.dumps({f: row[f] for f in FIELDS}, separators=(",", ":")))
        return out


def edge_clock_skew():
    ds = SkewedDataset("edge/clock-skew", 1604, "cs", ["svc-chat-prod", "svc-embed-prod"],
                       "Two gateways of one key whose clocks differ by four minutes")
    ds.inventory_overrides = dict(ROTATED)
    ds.labels = []
    # The chat service has two gateways; from 2026-11-20 the second takes every other hour, its clock 4 minutes fast.
    established(ds, chat_client=lambda when: "chat-servers-b" if when >= at("2026-11-20 00:00") and when.hour % 2 else "chat-servers")
    ds.readme = f"""# edge/clock-skew

The chat service's requests pass through two gateways, and from 2026-11-20 the second gateway's clock runs four
minutes ahead of the first's. Its events are stamped four minutes late of when they happened, so the file is not in
time order, events arrive stamped in the future of the run that first could see them, and a minute's requests may
fall in the next five-minute bucket.

## What the data shows

{BASE}
- From 2026-11-20, the chat key's odd hours go through a second gateway, 203.0.113.11 (US, AS64500, the same
  `OpenAI/Python 1.54.0`), whose events carry a time four minutes after the real one; the lines are written in
  real time order.

{EXPECTED}
"""
    return ds


REPLAYED = at("2026-11-25 10:00")


class ReplayedDataset(Dataset):
    """At-least-once delivery: every 25th line again, and one daytime minute delivered three times."""

    def lines(self):
        out = []
        for line in super().lines():
            row = json.loads(line)
            when = row["time"]
            copies = 3 if REPLAYED.strftime("%Y-%m-%dT%H:%M") == when[:16] else 1
            if copies == 1 and len(out) % 25 == 24:
                copies = 2
            out.extend([line] * copies)
        return out


def edge_duplicate_request_ids():
    ds = ReplayedDataset("edge/duplicate-request-ids", 1605, "dr", ["svc-chat-prod", "svc-embed-prod"],
                         "Events delivered more than once, with their request ids")
    ds.inventory_overrides = dict(ROTATED)
    ds.labels = []
    established(ds)
    # One busy minute at 10:00 on 2026-11-25, delivered three times: counted thrice, it would be 150 requests in a
    # five-minute bucket against a slot whose peaks are 10-20.
    ds.minute(REPLAYED, 50, "svc-chat-prod", "chat-servers", "gpt-4o-mini", "chat", chat_tokens(ds.rng))
    ds.readme = f"""# edge/duplicate-request-ids

A log shipper delivers at least once: some events arrive twice, and a whole minute of requests arrives three
times, each copy with its `request_id`. The loader drops every copy after the first (DESIGN.md), reporting
each, so the rules count every request once.

## What the data shows

{BASE}
- About one line in 25 is written twice, and every request of the busy minute 2026-11-25 10:00 UTC (50
  requests from the chat service, two to five times its usual daytime peak) is written three times. Counted with
  its copies, that minute would be 150 requests in a five-minute bucket: at least the rate rule's floor of 100
  and over four times the slot's baseline, so `llm-key-rpm-above-baseline` would alert.

{EXPECTED}
"""
    return ds


def write(ds):
    """As make_handcrafted.write, with the events gzipped (no name, zero mtime, level 9: the bytes repeat)."""
    folder = os.path.join(HERE, *ds.name.split("/"))
    os.makedirs(folder, exist_ok=True)

    def put(name, text):
        with open(os.path.join(folder, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    data = "".join(line + "\n" for line in ds.lines()).encode("utf-8")
    with open(os.path.join(folder, "events.jsonl.gz"), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(data)
    put("inventory.yaml", ds.inventory_text())
    put("labels.json", json.dumps(ds.labels, indent=2) + "\n")
    put("README.md", ds.readme.rstrip("\n") + "\n" + README_TAIL.replace("`test-data/make_handcrafted.py`", "`test-data/make_edge_datasets.py`")
        .replace("python3 test-data/make_handcrafted.py", "python3 test-data/make_edge_datasets.py"))


def read(name):
    """The events of a dataset as written (file order, copies kept) and its inventory's key ids."""
    folder = os.path.join(HERE, "edge", name)
    with gzip.open(os.path.join(folder, "events.jsonl.gz"), "rt", encoding="utf-8") as f:
        events = [json.loads(line) for line in f]
    return events, {k["id"] for k in parse_inventory(os.path.join(folder, "inventory.yaml"))}


BUILDERS = [edge_new_key, edge_inventory_only_key, edge_silent_day, edge_clock_skew, edge_duplicate_request_ids]


def check():
    ok = True

    def expect(cond, what):
        nonlocal ok
        if not cond:
            print("  FAIL:", what)
            ok = False

    events, inventory = read("new-key")
    first = min(e["time"] for e in events if e["key_id"] == "svc-new-key")
    expect(first.startswith("2026-11-25T09:"), "edge/new-key: the new key's first request is 2026-11-25 09:xx")
    expect(sum(1 for e in events if e["key_id"] == "svc-new-key") > 500, "edge/new-key: the new key is busy")

    events, inventory = read("inventory-only-key")
    expect("svc-support-prod" in inventory and all(e["key_id"] != "svc-support-prod" for e in events),
           "edge/inventory-only-key: svc-support-prod is in the inventory and nowhere in the events")

    events, _ = read("silent-day")
    expect(not any(e["time"].startswith("2026-11-18") for e in events), "edge/silent-day: nothing on 2026-11-18")
    expect(any(e["time"].startswith("2026-11-19T02:") for e in events), "edge/silent-day: the batch runs on 2026-11-19")

    events, _ = read("clock-skew")
    times = [e["time"] for e in events]
    expect(times != sorted(times), "edge/clock-skew: the lines are not in time order")
    expect(any(e["client_ip"] == "203.0.113.11" for e in events), "edge/clock-skew: the second gateway is there")

    events, _ = read("duplicate-request-ids")
    ids = [e["request_id"] for e in events]
    expect(len(ids) - len(set(ids)) > 100, "edge/duplicate-request-ids: over a hundred repeated request ids")
    busy = sum(1 for e in events if e["time"].startswith("2026-11-25T10:00:"))
    expect(busy >= 150, "edge/duplicate-request-ids: the busy minute is written three times (%d lines)" % busy)
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
