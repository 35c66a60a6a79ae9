#!/usr/bin/env python3
"""Summarise pagoda-bench --step-timeline CSV (a profiling build's stamps of
one decode step; kernels/step_stamps.hpp): per kernel kind, where the step's
critical path goes.

  scripts/step-timeline.py TIMELINE.csv[.gz] [--model SUBSTRING] [--test NAME] [--launches]

A launch's blocks stamp start, waited (past the PDL wait), ready (x in shared
memory; GEMVs only) and done. The launches of a step form one chain, so each
launch's share of the step is the time from the previous launch's last done
to its own last done, split into:
  release   previous last done -> this launch's first waited (a programmatic
            launch: the dependency reaching a block already resident; a
            plain one, such as attention's today: the launch itself)
  prologue  first waited -> last ready (x from L2, the norm, the quantization)
  body      last ready -> the median block's done
  tail      median done -> last done (the slowest blocks)
Attention kernels have no ready stamp: their body starts at the first waited.
Also: how many blocks had not started when the dependency resolved (late
blocks: each waits for an SM of the previous kernel to leave).
"""
import argparse
import csv
import gzip
import statistics
import sys
from collections import defaultdict

EVENTS = ("start", "waited", "ready", "done")


def open_text(path):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def launches_of(rows):
    """Group stamps into launches: a kind (tag, rows, cols, grid) runs once
    per layer, its launches one after another; block b of the k-th launch is
    the k-th run of block b's stamps."""
    by_kind_block = defaultdict(list)
    for r in rows:
        kind = (r["tag"], int(r["detail"]), int(r["cols"]), int(r["grid"]))
        by_kind_block[(kind, int(r["block"]))].append((int(r["ns"]), r["event"], int(r["sm"])))
    launches = defaultdict(lambda: defaultdict(dict))  # (kind, index) -> block -> event -> ns
    for (kind, block), stamps in by_kind_block.items():
        stamps.sort()
        index = -1
        for ns, event, _sm in stamps:
            if event == "start":
                index += 1
            launches[(kind, index)][block][event] = ns
    result = []
    for (kind, index), blocks in launches.items():
        if len(blocks) != kind[3]:
            sys.exit(f"step-timeline: launch {kind} #{index} has {len(blocks)} blocks of {kind[3]}: stamps missing")
        result.append((kind, index, blocks))
    return result


def name_of(kind):
    tag, rows, cols, grid = kind
    return f"{tag} {rows}x{cols}" if cols else f"{tag} (splits {rows}, grid {grid})"


def summarise(rows, show_launches):
    launches = launches_of(rows)
    chain = []
    for kind, index, blocks in launches:
        first_waited = min(b["waited"] for b in blocks.values())
        starts = sorted(b["start"] for b in blocks.values())
        dones = sorted(b["done"] for b in blocks.values())
        readies = [b["ready"] for b in blocks.values() if "ready" in b]
        chain.append({
            "kind": kind, "index": index, "first_start": starts[0], "first_waited": first_waited,
            "last_ready": max(readies) if readies else None,
            "median_done": dones[len(dones) // 2], "last_done": dones[-1],
            "late_blocks": sum(1 for s in starts if s > first_waited),
            "prologue_median": statistics.median(b["ready"] - b["waited"] for b in blocks.values()) if readies else 0,
        })
    chain.sort(key=lambda c: c["first_waited"])
    step_start = min(c["first_start"] for c in chain)
    step_end = max(c["last_done"] for c in chain)
    totals = defaultdict(lambda: defaultdict(float))
    previous_done = None
    for c in chain:
        base = previous_done if previous_done is not None else c["first_waited"]
        release = max(0, c["first_waited"] - base)
        body_start = c["last_ready"] if c["last_ready"] is not None else c["first_waited"]
        prologue = max(0, body_start - c["first_waited"])
        body = max(0, c["median_done"] - body_start)
        tail = max(0, c["last_done"] - max(c["median_done"], body_start))
        span = c["last_done"] - base if previous_done is not None else c["last_done"] - c["first_waited"]
        t = totals[name_of(c["kind"])]
        t["launches"] += 1
        for key, value in (("span", span), ("release", release), ("prologue", prologue), ("body", body),
                           ("tail", tail), ("late", c["late_blocks"]), ("prologue_median", c["prologue_median"])):
            t[key] += value
        if show_launches:
            print(f"  {name_of(c['kind']):40s} #{c['index']:<3d} at {(c['first_waited'] - step_start) / 1e3:8.2f} us: "
                  f"span {span / 1e3:6.2f} release {release / 1e3:5.2f} prologue {prologue / 1e3:5.2f} "
                  f"body {body / 1e3:6.2f} tail {tail / 1e3:5.2f} late {c['late_blocks']}")
        previous_done = c["last_done"]
    covered = sum(t["span"] for t in totals.values())
    print(f"  stamped kernels: {len(chain)} launches, {(step_end - step_start) / 1e3:.1f} us from the first start "
          f"to the last done ({covered / 1e3:.1f} us on the chain; the rest, e.g. norms, sampling, is outside it)")
    print(f"  {'kernel':40s} {'n':>3s} {'us/launch':>9s} {'release':>8s} {'prologue':>9s} {'(median)':>9s} "
          f"{'body':>7s} {'tail':>6s} {'late':>5s} {'us/step':>8s}")
    for name, t in sorted(totals.items(), key=lambda kv: -kv[1]["span"]):
        n = t["launches"]
        print(f"  {name:40s} {int(n):3d} {t['span'] / n / 1e3:9.2f} {t['release'] / n / 1e3:8.2f} "
              f"{t['prologue'] / n / 1e3:9.2f} {t['prologue_median'] / n / 1e3:9.2f} {t['body'] / n / 1e3:7.2f} "
              f"{t['tail'] / n / 1e3:6.2f} {t['late'] / n:5.1f} {t['span'] / 1e3:8.1f}")
    release = sum(t["release"] for t in totals.values())
    prologue = sum(t["prologue"] for t in totals.values())
    body = sum(t["body"] for t in totals.values())
    tail = sum(t["tail"] for t in totals.values())
    print(f"  chain: release {release / 1e3:.1f} us, prologue {prologue / 1e3:.1f}, body {body / 1e3:.1f}, "
          f"tail {tail / 1e3:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("timeline")
    parser.add_argument("--model", default="")
    parser.add_argument("--test", default="")
    parser.add_argument("--launches", action="store_true", help="one line per launch too")
    args = parser.parse_args()
    steps = defaultdict(list)
    with open_text(args.timeline) as f:
        for r in csv.DictReader(f):
            if args.model in r["model"] and (not args.test or r["test"] == args.test):
                steps[(r["model"], r["test"])].append(r)
    if not steps:
        sys.exit("step-timeline: no stamps match")
    for (model, test), rows in steps.items():
        print(f"{model} / {test}")
        summarise(rows, args.launches)


if __name__ == "__main__":
    main()
