#!/usr/bin/env python3
"""Regenerates seeds/admin_units/*.csv: Viet Nam's administrative units before
and after the reform of 1 July 2025 and the crosswalk between them, reduced
to plain CSV from the MIT-licensed PyPI package `vietnamadminunits` (its wheel
carries the data as SQLite and JSON). Only facts are kept (codes, names,
types, centroids, bounds, which old commune went into which new one); none of
the package's code is used.

    scripts/gen-admin-units.py            # downloads the pinned wheel with pip
    scripts/gen-admin-units.py WHEEL.whl  # or reads a wheel already here
"""
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import zipfile

PACKAGE, VERSION = "vietnamadminunits", "1.0.4"
OUT = os.path.join(os.path.dirname(__file__), "..", "seeds", "admin_units")


def wheel_path():
    if len(sys.argv) > 1:
        return sys.argv[1]
    d = tempfile.mkdtemp(prefix="admin-units-")
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    f"{PACKAGE}=={VERSION}", "-d", d], check=True)
    return os.path.join(d, next(f for f in os.listdir(d) if f.endswith(".whl")))


def bounds(text):
    """'s,w – n,e' (lat,lon pairs) -> (west, south, east, north)."""
    if not text:
        return ("", "", "", "")
    a, b = [p.strip() for p in text.replace("–", "-").split(" - ")]
    s, w = (float(x) for x in a.split(","))
    n, e = (float(x) for x in b.split(","))
    return (w, s, e, n)


def write(name, header, rows):
    with open(os.path.join(OUT, name), "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    print(f"{name}: {len(rows)} rows")


def main():
    z = zipfile.ZipFile(wheel_path())
    tmp = tempfile.mkdtemp(prefix="admin-units-db-")
    db_path = os.path.join(tmp, "dataset.db")
    with open(db_path, "wb") as f:
        f.write(z.read(f"{PACKAGE}/data/dataset.db"))
    conv = json.loads(z.read(f"{PACKAGE}/data/converter_2025.json"))
    licence = z.read(next(n for n in z.namelist() if n.endswith("LICENSE"))).decode()
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    os.makedirs(OUT, exist_ok=True)

    old = db.execute("SELECT * FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode").fetchall()
    new = db.execute("SELECT * FROM admin_units ORDER BY provinceCode, wardCode").fetchall()

    provinces_old = {}
    for r in old:
        provinces_old.setdefault(r["provinceCode"], (r["provinceCode"], r["province"], *bounds(r["provinceBounds"])))
    write("provinces_pre2025.csv", ["code", "name", "west", "south", "east", "north"],
          sorted(provinces_old.values()))
    # Island districts had no communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý
    # Sơn, Côn Đảo): the district itself is the unit, under its 3-digit code.
    def unit(r):
        if r["wardCode"]:
            return (r["wardCode"], r["ward"], r["wardType"], r["wardLon"], r["wardLat"], r["wardBounds"])
        return (r["districtCode"], r["district"], r["districtType"], r["districtLon"], r["districtLat"],
                r["districtBounds"])
    rows = []
    for r in old:
        code, name, kind, lon, lat, b = unit(r)
        rows.append((code, name, kind, r["districtCode"], r["district"], r["provinceCode"], lon, lat, *bounds(b)))
    write("communes_pre2025.csv",
          ["code", "name", "type", "district_code", "district", "province_code", "lon", "lat", "west", "south", "east", "north"],
          rows)
    provinces_new = {}
    for r in new:
        provinces_new.setdefault(r["provinceCode"], (r["provinceCode"], r["province"], r["provinceLon"], r["provinceLat"]))
    write("provinces_2025.csv", ["code", "name", "lon", "lat"], sorted(provinces_new.values()))
    write("communes_2025.csv", ["code", "name", "type", "province_code", "lon", "lat", "area_km2"],
          [(r["wardCode"], r["ward"], r["wardType"], r["provinceCode"], r["wardLon"], r["wardLat"], r["wardAreaKm2"])
           for r in new])

    # The package keys units by their names without tones; back to codes.
    old_code = {f'{r["provinceKey"]}_{r["districtKey"]}_{r["wardKey"] or ""}': unit(r)[0] for r in old}
    new_code = {(r["provinceKey"], r["wardKey"]): r["wardCode"] for r in new}
    rows = []
    for prov, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward, olds in wards.items():
            for o in olds:
                rows.append((old_code[o], new_code[(prov, ward)], "t"))
    for prov, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for o, parts in olds.items():
            for p in parts:
                rows.append((old_code[o], new_code[(prov, p["newWardKey"])], "f"))
    rows.sort()
    write("crosswalk_2025.csv", ["old_code", "new_code", "whole"], rows)

    with open(os.path.join(OUT, "SOURCE.md"), "w", encoding="utf-8") as f:
        f.write(f"""# Administrative units of Viet Nam, before and after 1 July 2025

Generated by `scripts/gen-admin-units.py` from the PyPI package
`{PACKAGE}` {VERSION} (https://github.com/tranngocminhhieu/vietnamadminunits),
MIT licence (below). Facts only: codes, names, types, centroids and bounds
of the units, and which former commune went into which new one.

- `provinces_pre2025.csv`, `communes_pre2025.csv`: the 63 provinces and
  their communes as of 30 June 2025 (with districts), with centroids and
  bounding boxes (WGS 84: west, south, east, north; geocoded by the source,
  approximate: not boundaries). The five island districts that had no
  communes are units themselves, under their 3-digit district code.
- `provinces_2025.csv`, `communes_2025.csv`: the 34 provinces and their
  communes from 1 July 2025 (no districts), with centroids and areas.
- `crosswalk_2025.csv`: former commune -> new commune; `whole` is `t` when
  the former commune went entirely into that one, `f` when it was split
  between several (one row each).

A commune code means nothing without its generation: most new communes
took over the code of one of their former communes.

## Licence of the source

```
{licence.strip()}
```
""")


if __name__ == "__main__":
    main()
