#!/usr/bin/python3
"""Python asyncio / uvloop side of the hotloop comparison.

Run by `go run ./cmd/compare -external` as

    /usr/bin/python3 external/asyncio_bench.py --loop asyncio|uvloop --config JSON

and prints one JSON object per line, exactly like the Go harness:
{"impl": ..., "workload": ..., "metric": ..., "value": ..., "samples": [...]}.

The workloads follow shared/WORKLOADS.md and internal/bench/bench.go: the same
xorshift32 delays, lateness from time.monotonic_ns() read just before
scheduling plus the delay, CPU from getrusage(RUSAGE_SELF), work scheduled
from inside the running loop unless stated, median of the measured
repetitions. Delays are handed to call_later in (fractional) seconds; both
loops sleep in whole milliseconds (epoll's timeout for asyncio, libuv's
millisecond timers for uvloop), which the table notes. W5 has no wakeups
metric here (neither loop counts them).
"""

import argparse
import asyncio
import gc
import json
import resource
import statistics
import sys
import threading
import time

SEED = 2463534242
now = time.monotonic_ns


class XorShift32:
    def __init__(self, seed=SEED):
        self.x = seed or SEED

    def next(self):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x

    def between(self, lo, hi):
        return lo + self.next() % (hi - lo + 1)


def delays(n, lo, hi):
    g = XorShift32()
    return [g.between(lo, hi) for _ in range(n)]


def percentile(xs, p):
    s = sorted(xs)
    if not s:
        return float("nan")
    rank = max(0.0, min(100.0, p)) / 100 * (len(s) - 1)
    lo, hi = int(rank // 1), int(-(-rank // 1))
    if lo == hi:
        return s[lo]
    return s[lo] + (s[hi] - s[lo]) * (rank - lo)


def cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


def run_kick(loop, kick, timeout):
    """Post kick(fut) to the loop and run the loop until fut is done."""
    fut = loop.create_future()
    loop.call_soon(kick, fut)
    return loop.run_until_complete(asyncio.wait_for(fut, timeout))


def w1(loop, cfg):
    n = cfg["W1Callbacks"]
    st = {"count": 0, "t0": 0, "t1": 0}

    def kick(fut):
        def inc():
            st["count"] += 1
            if st["count"] == n:
                st["t1"] = now()
                fut.set_result(None)

        st["t0"] = now()
        cs = loop.call_soon
        for _ in range(n):
            cs(inc)

    run_kick(loop, kick, cfg["timeout"])
    return [("ns_per_callback", (st["t1"] - st["t0"]) / n)]


def w1x(loop, cfg):
    per = cfg["W1xPerProd"]
    total = 2 * per
    st = {"count": 0, "t1": 0, "seen": 0, "tb": 0}

    def inc():
        st["count"] += 1
        if st["count"] == total:
            st["t1"] = now()

    def kick(fut):
        def barrier():
            st["seen"], st["tb"] = st["count"], now()
            fut.set_result(None)

        def produce():
            post = loop.call_soon_threadsafe
            for _ in range(per):
                post(inc)

        def coordinate():
            ts = [threading.Thread(target=produce) for _ in range(2)]
            st["t0"] = now()
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            loop.call_soon_threadsafe(barrier)

        threading.Thread(target=coordinate, daemon=True).start()

    run_kick(loop, kick, cfg["timeout"])
    t1 = st["t1"] if st["seen"] == total else st["tb"]
    return [("ns_per_callback", (t1 - st["t0"]) / total), ("lost", float(total - st["seen"]))]


def at_once(loop, cfg, ds_us):
    n = len(ds_us)
    due = [0] * n
    fire = [0] * n
    st = {"fired": 0}

    def kick(fut):
        def cb(i):
            fire[i] = now()
            st["fired"] += 1
            if st["fired"] == n:
                st["cpu1"] = cpu_ns()
                fut.set_result(None)

        st["cpu0"] = cpu_ns()
        st["t0"] = now()
        cl = loop.call_later
        for i, us in enumerate(ds_us):
            due[i] = now() + us * 1000
            cl(us / 1e6, cb, i)

    run_kick(loop, kick, cfg["timeout"])
    lat = [(f - d) / 1e3 for f, d in zip(fire, due)]
    return st["t0"], max(fire), st["cpu1"] - st["cpu0"], lat


def w2(loop, cfg, n):
    t0, last, cpu, lat = at_once(loop, cfg, delays(n, 0, 10000))
    return [
        ("wall_ms", (last - t0) / 1e6),
        ("cpu_us_per_timer", cpu / 1e3 / n),
        ("lateness_mean_us", statistics.fmean(lat)),
    ]


def w3(loop, cfg):
    _, _, _, lat = at_once(loop, cfg, delays(cfg["W3Timers"], 1000, 10000))
    return [
        ("lateness_mean_us", statistics.fmean(lat)),
        ("lateness_p50_us", percentile(lat, 50)),
        ("lateness_p99_us", percentile(lat, 99)),
        ("lateness_max_us", max(lat)),
        ("lateness_min_us", min(lat)),
    ]


def w4(loop, cfg):
    n = cfg["W4Timers"]
    due = [0] * n
    fire = [0] * n
    st = {}

    def kick(fut):
        def cb(i):
            fire[i] = now()
            if i + 1 < n:
                schedule(i + 1)
            else:
                fut.set_result(None)

        def schedule(i):
            due[i] = now() + 100_000
            loop.call_later(100e-6, cb, i)

        st["t0"] = now()
        schedule(0)

    run_kick(loop, kick, cfg["timeout"])
    lat = [(f - d) / 1e3 for f, d in zip(fire, due)]
    return [("us_per_timer", (fire[-1] - st["t0"]) / 1e3 / n), ("lateness_mean_us", statistics.fmean(lat))]


def w4b(loop, cfg):
    t0, last, _, lat = at_once(loop, cfg, [100] * cfg["W4Timers"])
    return [("wall_ms", (last - t0) / 1e6), ("lateness_mean_us", statistics.fmean(lat))]


def w5(loop, cfg):
    d_ns = cfg["W5DelayNs"]
    st = {}

    def kick(fut):
        def cb():
            st["t1"] = now()
            st["cpu1"] = cpu_ns()
            fut.set_result(None)

        st["cpu0"] = cpu_ns()
        st["t0"] = now()
        loop.call_later(d_ns / 1e9, cb)

    time.sleep(0.005)
    run_kick(loop, kick, cfg["timeout"] + d_ns / 1e9)
    return [("elapsed_ms", (st["t1"] - st["t0"]) / 1e6), ("cpu_us", (st["cpu1"] - st["cpu0"]) / 1e3)]


def w6(loop, cfg):
    n = cfg["W6Timers"]
    st = {"fired": 0}

    def never():
        st["fired"] += 1

    def kick(fut):
        def barrier():
            st["t1"] = now()
            fut.set_result(None)

        st["t0"] = now()
        cl = loop.call_later
        hs = [cl(1.0, never) for _ in range(n)]
        for h in hs:
            h.cancel()
        loop.call_soon(barrier)

    run_kick(loop, kick, cfg["timeout"])
    if st["fired"]:
        raise RuntimeError("W6: cancelled timers fired")
    return [("ns_per_pair", (st["t1"] - st["t0"]) / n)]


def w7(loop, cfg):
    k = cfg["W7Samples"]
    idle_ns = cfg["W7IdleBetweenNs"]
    lat = []

    def kick(fut):
        got = threading.Event()

        def cb(t0):
            lat.append((now() - t0) / 1e3)
            got.set()

        def producer():
            g = XorShift32()
            for _ in range(k):
                time.sleep((idle_ns + g.between(0, 1000) * 1000) / 1e9)
                got.clear()
                loop.call_soon_threadsafe(cb, now())
                got.wait()
            loop.call_soon_threadsafe(fut.set_result, None)

        threading.Thread(target=producer, daemon=True).start()

    run_kick(loop, kick, cfg["timeout"] + k * 0.01)
    return [("p50_us", percentile(lat, 50)), ("p99_us", percentile(lat, 99))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--config", required=True, help="JSON config from the Go harness")
    a = ap.parse_args()
    cfg = json.loads(a.config)
    if a.loop == "uvloop":
        import uvloop

        new_loop = uvloop.new_event_loop
    else:
        new_loop = asyncio.new_event_loop

    rows = []
    for w in cfg["workloads"]:
        if w == "W2":
            for n in cfg["W2Sizes"]:
                rows.append((f"W2/N={n}", lambda l, n=n: w2(l, cfg, n)))
        elif w in ("W1", "W1x", "W3", "W4", "W4b", "W5", "W6", "W7"):
            fn = globals()[w.lower()]
            rows.append((w, lambda l, fn=fn: fn(l, cfg)))
    for name, rep in rows:
        print(f"{a.loop}: {name}", file=sys.stderr, flush=True)
        loop = new_loop()
        asyncio.set_event_loop(loop)
        samples = {}
        order = []
        try:
            reps = max(cfg["Reps"], cfg.get("FastReps", 0)) if name in ("W1", "W1x") else cfg["Reps"]
            for i in range(cfg["Warmup"] + reps):
                gc.collect()
                ms = rep(loop)
                if i < cfg["Warmup"]:
                    continue
                for m, v in ms:
                    if m not in samples:
                        order.append(m)
                        samples[m] = []
                    samples[m].append(float(v))
        except Exception as e:  # report and go on with the next workload
            print(f"{a.loop}: {name}: {e!r}", file=sys.stderr, flush=True)
            order = []
        finally:
            loop.close()
        for m in order:
            rec = {"impl": a.loop, "workload": name, "metric": m,
                   "value": statistics.median(samples[m]), "samples": samples[m]}
            print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
