#!/usr/bin/env python3
"""Fixed tile lists for the tile benchmark (deterministic).

Reads "lon<TAB>lat" points where the data is (sampled features of the layer,
one per line) on stdin and writes distinct tiles "z/x/y", one per line:
    lists.py MINZOOM MAXZOOM PER_ZOOM SEED > tiles.txt
Per zoom: every distinct tile that holds a point, shuffled with SEED, at most
PER_ZOOM of them; the output is sorted by a seeded shuffle too (so requests of
one zoom are spread over the pass, as a panning/zooming map would ask).
"""
import math
import random
import sys


def tile(lon, lat, z):
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def main():
    zmin, zmax, per_zoom, seed = (int(a) for a in sys.argv[1:5])
    pts = []
    for line in sys.stdin:
        parts = line.split()
        if len(parts) >= 2:
            pts.append((float(parts[0]), float(parts[1])))
    rng = random.Random(seed)
    out = []
    for z in range(zmin, zmax + 1):
        tiles = sorted({tile(lon, lat, z) for lon, lat in pts})
        rng.shuffle(tiles)
        chosen = tiles[:per_zoom]
        out += [f"{z}/{x}/{y}" for x, y in chosen]
        print(f"z{z}: {len(tiles)} tiles with data, {len(chosen)} chosen", file=sys.stderr)
    rng.shuffle(out)
    sys.stdout.write("".join(t + "\n" for t in out))


if __name__ == "__main__":
    main()
