#!/usr/bin/env python3
"""Summary of bench/tiles/run.sh: results.jsonl (tileload output) -> Markdown.

    summary.py RESULTS.jsonl [FEATURECOUNT.txt [LOAD.txt]]

Per list and phase (cold, warm): each server's req/s, p50 and p99 (median over
the rounds), the throughput ratio geokho/martin (median of the per-round
ratios), errors; mean tile size raw and gzip; the targets. With LOAD.txt (CPU
accounting of run.sh): CPU milliseconds per tile of the server and
PostgreSQL together, per server, which other work on a shared machine
disturbs much less than req/s.
"""
import json
import statistics
import sys
from collections import defaultdict


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    runs = defaultdict(list)  # (list, server, phase) -> [result]
    ident = {}
    for line in open(sys.argv[1]):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        parts = r["label"].split("/")
        if parts[2] == "identity":
            ident[(parts[0], parts[1])] = r
        else:
            r["round"] = parts[3]
            runs[(parts[0], parts[1], parts[2])].append(r)
    lists = []
    for (l, _, _) in runs:
        if l not in lists:
            lists.append(l)
    out = []
    out.append("| list | phase | geokho req/s | martin req/s | ratio geokho/martin | geokho p50 / p99 ms | martin p50 / p99 ms | errors g/m |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    ratios = {}
    for l in lists:
        for ph in ("cold", "warm"):
            g = runs.get((l, "geokho", ph), [])
            m = runs.get((l, "martin", ph), [])
            if not g or not m:
                continue
            per_round = []
            mr = {x["round"]: x for x in m}
            for x in g:
                if x["round"] in mr:
                    per_round.append(x["req_per_s"] / mr[x["round"]]["req_per_s"])
            ratio = med(per_round)
            errs = sum(x["errors"] for x in g + m)
            if errs > 0.01 * sum(x["requests"] for x in g + m):
                ratio = float("nan")  # a server failing requests is not a measurement
            ratios[(l, ph)] = ratio
            out.append(
                f"| {l} | {ph} | {med([x['req_per_s'] for x in g]):.0f} | {med([x['req_per_s'] for x in m]):.0f} "
                f"| **{ratio:.2f}x** ({', '.join(f'{p:.2f}' for p in per_round)}) "
                f"| {med([x['p50_ms'] for x in g]):.1f} / {med([x['p99_ms'] for x in g]):.1f} "
                f"| {med([x['p50_ms'] for x in m]):.1f} / {med([x['p99_ms'] for x in m]):.1f} "
                f"| {sum(x['errors'] for x in g)}/{sum(x['errors'] for x in m)} |"
            )
    out.append("")
    out.append("| list | tiles | geokho mean raw KB | martin mean raw KB | geokho mean gzip KB | martin mean gzip KB | non-empty g/m |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for l in lists:
        gi, mi = ident.get((l, "geokho")), ident.get((l, "martin"))
        gw = runs.get((l, "geokho", "warm"), [])
        mw = runs.get((l, "martin", "warm"), [])
        if not gi or not mi:
            continue
        gz = lambda rs: med([x["mean_bytes"] for x in rs]) / 1024 if rs else float("nan")
        out.append(
            f"| {l} | {gi['requests']} | {gi['mean_bytes'] / 1024:.1f} | {mi['mean_bytes'] / 1024:.1f} "
            f"| {gz(gw):.1f} | {gz(mw):.1f} | {gi['nonempty']}/{mi['nonempty']} |"
        )
    out.append("")
    cold = [ratios[k] for k in ratios if k[1] == "cold" and ratios[k] == ratios[k]]
    warm = [ratios[k] for k in ratios if k[1] == "warm" and ratios[k] == ratios[k]]
    if any(r != r for r in ratios.values()):
        out.append("- **a ratio shown as nan: over 1% of requests failed on one server; that row is not a result**")
    low = runs.get(("lowzoom", "geokho", "cold"), [])
    low_p99 = max((x["p99_ms"] for x in low), default=float("nan"))
    if cold:
        out.append(f"- cold >= 2x martin: lowest cold ratio {min(cold):.2f}x -> {'met' if min(cold) >= 2 else 'NOT met'}")
    if warm:
        out.append(f"- warm >= 1.5x martin: lowest warm ratio {min(warm):.2f}x -> {'met' if min(warm) >= 1.5 else 'NOT met'}")
    if low:
        out.append(f"- low-zoom cold p99 <= 100 ms: geokho worst round {low_p99:.1f} ms -> {'met' if low_p99 <= 100 else 'NOT met'}")
    if len(sys.argv) > 2:
        try:
            lines = [x.strip() for x in open(sys.argv[2]) if x.strip()]
        except OSError:
            lines = []
        if lines:
            by_tile = defaultdict(dict)
            for x in lines:
                t, s, *c = x.split(" ")
                by_tile[t][s] = " ".join(c)
            same = sum(1 for v in by_tile.values() if v.get("geokho") == v.get("martin"))
            out.append(f"- feature counts (GDAL MVT driver, z>=14, thua_dat,duong_bo): {same}/{len(by_tile)} tiles agree")
            for t, v in by_tile.items():
                out.append(f"  - {t}: geokho {v.get('geokho', '?')}; martin {v.get('martin', '?')}")
    if len(sys.argv) > 3:
        cpu = defaultdict(list)  # (list, server, phase) -> [(ms per tile, wall s)]
        try:
            for line in open(sys.argv[3]):
                f = line.split()
                if len(f) < 9:
                    continue
                label, wall, server_cpu = f[0], float(f[3]), float(f[7])
                parts = label.split("/")
                r = [x for x in runs.get((parts[0], parts[1], parts[2]), []) if x["round"] == parts[3]]
                if r and r[0]["requests"]:
                    cpu[(parts[0], parts[1], parts[2])].append((1000 * server_cpu / r[0]["requests"], wall))
        except OSError:
            pass
        if cpu:
            out.append("")
            out.append("CPU per tile (server + PostgreSQL, ms; median over rounds; passes under 2 s are too short to account well):")
            out.append("")
            out.append("| list | phase | geokho CPU ms/tile | martin CPU ms/tile | martin/geokho |")
            out.append("| --- | --- | ---: | ---: | ---: |")
            for l in lists:
                for ph in ("cold", "warm"):
                    g, m = cpu.get((l, "geokho", ph)), cpu.get((l, "martin", ph))
                    if not g or not m:
                        continue
                    gm, mm = med([x[0] for x in g]), med([x[0] for x in m])
                    short = " (short pass)" if min(x[1] for x in g + m) < 2 else ""
                    ratio = f"{mm / gm:.2f}x" if gm > 0 else "-"
                    out.append(f"| {l} | {ph} | {gm:.2f} | {mm:.2f} | {ratio}{short} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
