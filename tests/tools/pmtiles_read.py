"""Reads a PMTiles file with the protomaps reader (an independent implementation)
and prints JSON: header fields, metadata keys, tile count, and one tile's
decompressed bytes (hex) when z/x/y are given.  usage: pmtiles_read.py FILE [Z X Y]"""
import gzip
import json
import sys

from pmtiles.reader import MmapSource, Reader, all_tiles

with open(sys.argv[1], "rb") as f:
    r = Reader(MmapSource(f))
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
    print(json.dumps(out))
