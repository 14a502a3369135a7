#!/usr/bin/env python3
"""Summary of bench/queries/run.sh -> Markdown (stdout).

    summary.py OUT_DIR QUERY...

Per query and round N (run.sh alternates API and pgbench ROUNDS times),
from OUT_DIR:
  api-Q.rN.json        tileload's result of the timed passes (requests, wall time)
  per-url-Q.rN.tsv     status, bytes, ms, url per request (--per-url)
  pgbench-Q.rN.txt     pgbench's report (tps, failed transactions, -r latencies)
  pgbench-Q.rN.log*    pgbench's per-transaction logs (-l)
  cpu-Q.rN.txt         CPU seconds used during each side's run (run.sh)
p50 / p99 are nearest-rank percentiles (as tileload computes them) over every
request of all rounds' timed API passes, and over every transaction of
pgbench's per-transaction logs (`client_id transaction_no time_us script_no
epoch us`), leaving out each connection's first transaction (see below).
API req/s: all rounds' requests over their summed wall time. pgbench tps:
transactions per second from the moment every connection of a round is past
its first, over the rounds. API overhead = API p99 / pgbench p99.
"""
import glob
import json
import math
import re
import sys
from collections import Counter

NAMES = {
    "parcel_at": "parcel at point",
    "near": "nearest 10 warehouses",
    "planning": "planning report",
    "route": "truck route across the province",
}
TARGET_P99 = {"parcel_at": 10.0, "near": 10.0, "route": 300.0}
TARGET_OVERHEAD = 1.3


def pct(xs, p):
    if not xs:
        return float("nan")
    rank = math.ceil(p / 100.0 * len(xs))
    return xs[min(max(rank, 1), len(xs)) - 1]


def cpu(path):
    d = {}
    try:
        for line in open(path):
            k, v = line.split()
            d[k] = float(v)
    except FileNotFoundError:
        pass
    return d


def cpu_rounds(pattern):
    """The rounds' CPU seconds summed; load averages the highest; steal the mean."""
    rounds = [cpu(p) for p in sorted(glob.glob(pattern))]
    total = {}
    for c in rounds:
        for k, v in c.items():
            if k.startswith("load_"):
                total[k] = max(total.get(k, v), v)
            elif k.startswith("steal_"):
                total[k] = total.get(k, 0.0) + v / len(rounds)
            else:
                total[k] = total.get(k, 0.0) + v
    return total


def main():
    out_dir, queries = sys.argv[1], sys.argv[2:]
    rows, notes, checks = [], [], []
    for q in queries:
        rounds = sorted(glob.glob(f"{out_dir}/api-{q}.r*.json"))
        apis = [json.load(open(r)) for r in rounds]
        api = {
            "requests": sum(a["requests"] for a in apis),
            "wall_s": sum(a["wall_s"] for a in apis),
        }
        api["req_per_s"] = api["requests"] / api["wall_s"] if api["wall_s"] else float("nan")
        lat, status = [], Counter()
        for path in glob.glob(f"{out_dir}/per-url-{q}.r*.tsv"):
            for line in open(path):
                f = line.rstrip("\n").split("\t")
                status[f[0]] += 1
                lat.append(float(f[2]))
        lat.sort()
        # The first transaction of each pgbench connection runs on a new
        # backend (PostGIS, PROJ and pgRouting load, statements prepared): the
        # server's pool connections went through that in the untimed pass, so
        # it is left out, and tps counts from the moment every client is past it.
        # Per round (pgbench-Q.rN.log*): each round's connections are new.
        us, steady_n, steady_s, failed, aborted = [], 0, 0.0, 0, False
        for r in range(1, len(rounds) + 1):
            ends, firsts = [], []
            for path in glob.glob(f"{out_dir}/pgbench-{q}.r{r}.log*"):
                for line in open(path):
                    f = line.split()
                    if len(f) < 6 or not f[2].isdigit():
                        continue
                    end = int(f[4]) + int(f[5]) / 1e6
                    if f[1] == "1":
                        firsts.append(end)
                    else:
                        us.append(int(f[2]) / 1000.0)
                        ends.append(end)
            warm = max(firsts) if firsts else 0.0
            steady = [e for e in ends if e > warm]
            if len(steady) > 1:
                steady_n += len(steady)
                steady_s += max(steady) - warm
            rep = open(f"{out_dir}/pgbench-{q}.r{r}.txt").read()
            m = re.search(r"number of failed transactions: (\d+)", rep)
            failed += int(m.group(1)) if m else 0
            aborted = aborted or "aborted" in rep
        us.sort()
        tps = steady_n / steady_s if steady_s > 0 else float("nan")
        a50, a99, b50, b99 = pct(lat, 50), pct(lat, 99), pct(us, 50), pct(us, 99)
        ratio = a99 / b99 if b99 > 0 else float("nan")
        st = ", ".join(f"{n} x {s}" for s, n in sorted(status.items()))
        rows.append(
            f"| {NAMES.get(q, q)} | {a50:.2f} | {a99:.2f} | {api['req_per_s']:.0f} "
            f"| {b50:.2f} | {b99:.2f} | {tps:.0f} | **{ratio:.2f}x** | {st} |"
        )
        c = cpu_rounds(f"{out_dir}/cpu-{q}.r*.txt")
        if c:
            n_api, n_pgb = len(lat), len(us)
            notes.append(
                f"- {NAMES.get(q, q)}: CPU per request, API run: PostgreSQL "
                f"{1000 * c.get('api_pg', 0) / n_api:.2f} ms, geokho {1000 * c.get('api_geokho', 0) / n_api:.2f} ms, "
                f"tileload {1000 * c.get('api_load', 0) / n_api:.2f} ms; pgbench run: PostgreSQL "
                f"{1000 * c.get('pgb_pg', 0) / max(n_pgb, 1):.2f} ms, pgbench {1000 * c.get('pgb_load', 0) / max(n_pgb, 1):.2f} ms "
                f"({n_api} requests in {api['wall_s']:.1f} s, {n_pgb} transactions; 1-min load average, the benchmark included, "
                f"{c.get('load_api', float('nan')):.1f} / {c.get('load_pgb', float('nan')):.1f}; "
                f"CPU time the host took from this machine (steal), {c.get('steal_api', float('nan')):.0f} % / "
                f"{c.get('steal_pgb', float('nan')):.0f} %)"
            )
        if failed or aborted:
            notes.append(f"- {NAMES.get(q, q)}: pgbench failed transactions {failed}{', clients ABORTED' if aborted else ''}")
        if q in TARGET_P99:
            ok = a99 <= TARGET_P99[q]
            checks.append(f"- {NAMES.get(q, q)}: API p99 {a99:.1f} ms (target <= {TARGET_P99[q]:.0f} ms): **{'met' if ok else 'not met'}**")
        ok = ratio <= TARGET_OVERHEAD
        checks.append(f"- {NAMES.get(q, q)}: API overhead {ratio:.2f}x (target <= {TARGET_OVERHEAD}x): **{'met' if ok else 'not met'}**")
    print("| query | API p50 ms | API p99 ms | API req/s | pgbench p50 ms | pgbench p99 ms | pgbench tps | API overhead (p99 / p99) | API answers |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))
    print()
    print("\n".join(checks))
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
