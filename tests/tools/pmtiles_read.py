"""Reads a PMTiles file with the protomaps reader (an independent implementation)
and prints JSON: header fields, metadata keys, tile count, and one tile's
decompressed bytes (hex) when z/x/y are given.
usage: pmtiles_read.py FILE|URL [Z X Y]
With an http:// URL every read is an HTTP Range request, as a map client
reads a PMTiles file from static storage or a CDN; each must be answered
206 with exactly the bytes asked for, and the JSON adds the number of
requests and bytes fetched."""
import gzip
import json
import sys
import urllib.request

from pmtiles.reader import MmapSource, Reader, all_tiles

fetched = {"requests": 0, "bytes": 0}


def http_source(url):
    def get_bytes(offset, length):
        req = urllib.request.Request(url, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        with urllib.request.urlopen(req) as r:
            body = r.read()
            if r.status != 206 or len(body) != length:
                sys.exit(f"{url}: Range {offset}+{length} answered {r.status} with {len(body)} bytes")
        fetched["requests"] += 1
        fetched["bytes"] += length
        return body

    return get_bytes


def read(source):
    r = Reader(source)
    h = r.header()
    out = {
        "tile_type": str(h["tile_type"]),
        "compression": str(h["tile_compression"]),
        "min_zoom": h["min_zoom"],
        "max_zoom": h["max_zoom"],
        "metadata_keys": sorted(r.metadata().keys()),
        "vector_layers": [v["id"] for v in r.metadata().get("vector_layers", [])],
        "tiles": sum(1 for _ in all_tiles(r.get_bytes)),
    }
    if len(sys.argv) == 5:
        z, x, y = map(int, sys.argv[2:])
        data = r.get(z, x, y)
        out["tile"] = gzip.decompress(data).hex() if data else None
    return out


if sys.argv[1].startswith("http://"):
    out = read(http_source(sys.argv[1]))
    out.update(fetched)
else:
    with open(sys.argv[1], "rb") as f:
        out = read(MmapSource(f))
print(json.dumps(out))
