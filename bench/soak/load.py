#!/usr/bin/env python3
"""Fixed-rate mixed load for bench/soak/run.sh (standard library only).

Requests are scheduled at --rate per second (open loop: a slow server does not
slow the schedule) from a deterministic mix, sent by a thread pool over
keep-alive connections. Every 5 s the server's RSS is read from /proc. Prints
and writes a JSON summary; exits 1 on any failed request or RSS growth > 10%.
"""
import argparse, http.client, json, math, queue, random, statistics, subprocess, sys, threading, time
from urllib.parse import urlsplit


def tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def urls(db_url, rnd):
    """A mix over the province's extent (read from the catalog)."""
    q = "SELECT bounds[1], bounds[2], bounds[3], bounds[4] FROM geokho.layers WHERE name = 'thua_dat'"
    w, s, e, n = map(float, subprocess.check_output(["psql", db_url, "-Atc", q], text=True).strip().split("|"))
    fids = subprocess.check_output(["psql", db_url, "-Atc", "SELECT fid FROM geokho_data.thua_dat ORDER BY fid"], text=True).split()
    keys = subprocess.check_output(["psql", db_url, "-Atc", "SELECT ma_xa||'/'||so_to||'/'||so_thua FROM geokho_data.thua_dat ORDER BY fid LIMIT 500"], text=True).split()
    pt = lambda: (rnd.uniform(w, e), rnd.uniform(s, n))
    mix = []
    for _ in range(4000):
        lon, lat = pt()
        r = rnd.random()
        if r < 0.45:
            z, x, y = tile(lon, lat, rnd.choice([12, 13, 14, 15, 16]))
            if rnd.random() < 0.2:
                mix.append(f"/tiles/thua_dat/{z}/{x}/{y}.mvt?filter=loai_dat%3D%27LUC%27")
            else:
                mix.append(f"/tiles/thua_dat,duong_bo/{z}/{x}/{y}.mvt")
        elif r < 0.6:
            mix.append(f"/ogc/collections/thua_dat/items?limit=20&offset={rnd.randrange(0, 5000)}")
        elif r < 0.7:
            mix.append(f"/land/parcels/at?lon={lon:.6f}&lat={lat:.6f}")
        elif r < 0.75:
            mix.append(f"/land/parcels/{rnd.choice(keys)}")
        elif r < 0.78:
            mix.append(f"/land/parcels/{rnd.choice(fids)}/planning")
        elif r < 0.88:
            mix.append(f"/logistics/warehouses/near?lon={lon:.6f}&lat={lat:.6f}&limit=10")
        elif r < 0.93:
            lon2, lat2 = pt()
            mix.append(f"/logistics/route?from={lon:.6f},{lat:.6f}&to={lon2:.6f},{lat2:.6f}&weight=12")
        elif r < 0.96:
            mix.append("/catalog")
        else:
            mix.append("/tiles/thua_dat.json")
    return mix


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rnd = random.Random(42)
    mix = urls(a.database_url, rnd)
    host = urlsplit(a.base).netloc
    work = queue.Queue(maxsize=10000)
    lock = threading.Lock()
    stats = {"sent": 0, "ok": 0, "not_found": 0, "failed": 0, "late": 0, "lat_ms": []}
    failures = []

    def worker():
        conn = http.client.HTTPConnection(host, timeout=30)
        while True:
            u = work.get()
            if u is None:
                return
            t0 = time.perf_counter()
            try:
                conn.request("GET", u, headers={"Accept-Encoding": "gzip"})
                r = conn.getresponse()
                r.read()
                code = r.status
            except Exception as e:  # a dropped connection is a failure
                code = f"{type(e).__name__}"
                conn.close()
                conn = http.client.HTTPConnection(host, timeout=30)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                stats["lat_ms"].append(ms)
                if isinstance(code, int) and code < 400:
                    stats["ok"] += 1
                elif code == 404:
                    stats["not_found"] += 1  # a random point off the parcels
                else:
                    stats["failed"] += 1
                    if len(failures) < 20:
                        failures.append(f"{code} {u}")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(32)]
    for t in threads:
        t.start()
    rss = []
    start = time.monotonic()
    next_rss = start
    i = 0
    while True:
        now = time.monotonic()
        if now - start >= a.seconds:
            break
        if now >= next_rss:
            rss.append((round(now - start, 1), rss_kib(a.pid)))
            next_rss += 5
        due = start + i / a.rate
        if due > now:
            time.sleep(min(due - now, 0.05))
            continue
        try:
            work.put_nowait(mix[i % len(mix)])
        except queue.Full:
            stats["late"] += 1
        i += 1
        stats["sent"] = i
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join(timeout=60)
    lat = sorted(stats.pop("lat_ms"))
    pct = lambda p: round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1) if lat else None
    second = [k for t, k in rss if 60 <= t < 120] or [k for _, k in rss[:2]]
    last = [k for t, k in rss if t >= a.seconds - 60] or [k for _, k in rss[-2:]]
    growth = statistics.median(last) / statistics.median(second) - 1
    out = dict(stats, seconds=a.seconds, rate=a.rate, p50_ms=pct(50), p99_ms=pct(99),
               rss_second_minute_kib=statistics.median(second), rss_last_minute_kib=statistics.median(last),
               rss_growth_pct=round(growth * 100, 1), rss_samples=rss, failures=failures)
    ok = stats["failed"] == 0 and stats["late"] == 0 and growth <= 0.10
    out["pass"] = ok
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    brief = {k: v for k, v in out.items() if k != "rss_samples"}
    print(json.dumps(brief, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
