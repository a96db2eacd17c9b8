#!/usr/bin/env python3
"""Ops of a Chrome trace written by `fast_bench --profile FILE`, by self time (time not spent in
nested ops on the same thread).  usage: bench/profile_summary.py FILE [ROWS]"""
import collections
import json
import sys


def main():
    events = json.load(open(sys.argv[1]))
    events = events.get("traceEvents", events) if isinstance(events, dict) else events
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            by_thread[e.get("tid")].append((float(e["ts"]), float(e["dur"]), e["name"]))
    self_us, calls = collections.Counter(), collections.Counter()
    for spans in by_thread.values():
        spans.sort(key=lambda s: (s[0], -s[1]))
        stack = []  # [end, name, child time]
        def close(item):
            self_us[item[1]] += item[3] - item[2]
        for ts, dur, name in spans:
            while stack and stack[-1][0] <= ts:
                close(stack.pop())
            if stack:
                stack[-1][2] += dur
            stack.append([ts + dur, name, 0.0, dur])
            calls[name] += 1
        while stack:
            close(stack.pop())
    total = sum(self_us.values())
    print(f"{'op':48} {'self ms':>10} {'share':>7} {'calls':>6}")
    for name, us in self_us.most_common(rows):
        print(f"{name[:48]:48} {us / 1000:10.1f} {100 * us / total:6.1f}% {calls[name]:6d}")
    print(f"{'total':48} {total / 1000:10.1f}")


if __name__ == "__main__":
    main()
