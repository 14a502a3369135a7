#!/usr/bin/env python3
"""Checks that the pgbench scripts run the server's SQL with the server's values.

    check_sql.py SERVER_LOG

run.sh turns on log_min_duration_statement=0 and, for each query, writes a
marker (psql: SELECT 'queries-bench:Q'), sends the first request of its URL
list to geokho, then runs the pgbench script once on the same list entry.
Here, per query, the statements the server executed (application_name not
"pgbench") are compared in order with pgbench's:
  - text: equal after normalising placeholders ($n, :var) and array
    parameters (the server binds an int8[]/float8[], pgbench writes
    ARRAY[$n, ...]); a pgbench statement may wrap the server's (the route's
    cost query, where pgbench picks the fastest way in SQL);
  - values: the same set of parameter values (numbers within 1e-9
    relative, array elements one by one; a wrapper may use more).
Queries named in the environment variable SQL_CHECK_SKIP (space-separated)
are reported as not compared: the route, whose server side no longer runs
pgRouting (the in-memory graph, features/src/graph.rs) while its pgbench
script still runs the old design's pgRouting SQL as the database ceiling.
Prints one line per query; exits 1 if any differs.
"""
import os
import re
import sys

SKIP = set(os.environ.get("SQL_CHECK_SKIP", "").split())

LINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\S*): (LOG|DETAIL):  (.*)$")
EXEC = re.compile(r"^duration: [\d.]+ ms  (?:execute [^:]*|statement): (.*)$")
PARAM = re.compile(r"\$\d+ = (NULL|'(?:[^']|'')*')")
MARK = re.compile(r"SELECT 'queries-bench:(\w+)'")


def norm(sql):
    s = re.sub(r"\s+", " ", sql.strip().rstrip(";")).strip()
    s = re.sub(r"(\$\d+|ARRAY\[[^\]]*\])(::\w+\[\])?", "$", s)
    return s


def values(params):
    out = set()
    for p in params:
        if p == "NULL":
            out.add("NULL")
            continue
        v = p[1:-1].replace("''", "'")
        parts = v[1:-1].split(",") if v.startswith("{") and v.endswith("}") else [v]
        for x in parts:
            try:
                out.add(float(x))
            except ValueError:
                out.add(x)
    return out


def same(x, y):
    """Equal, numbers within 1e-9 relative: pgbench sends its computed
    coordinates with 15 significant digits, so a point may move by ~1e-13
    degree and a fraction along a road change in its 11th digit."""
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
    return x == y


def missing(a, b):
    """Values of a with no equal in b."""
    return sorted((str(x) for x in a if not any(same(x, y) for y in b)))


def main():
    segs = {}  # query -> {"server": [(sql, params)], "pgbench": [...]}
    cur = None
    last = None
    for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        _, app, kind, msg = m.groups()
        if kind == "LOG":
            e = EXEC.match(msg)
            last = None
            if not e:
                continue
            mk = MARK.search(e.group(1))
            if mk:
                cur = segs.setdefault(mk.group(1), {"server": [], "pgbench": []})
                continue
            if cur is None or app == "psql":
                continue
            entry = [e.group(1), []]
            cur["pgbench" if app == "pgbench" else "server"].append(entry)
            last = entry
        elif kind == "DETAIL" and last is not None and msg.startswith("parameters: "):
            last[1] = PARAM.findall(msg)
            last = None
    bad = 0
    for q, s in segs.items():
        srv, pgb = s["server"], s["pgbench"]
        if q.split("_")[0] in SKIP or q.rsplit("_", 2)[0] in SKIP:
            print(f"{q}: not compared (SQL_CHECK_SKIP): server {len(srv)} statements, pgbench {len(pgb)}")
            continue
        problems = []
        if not srv or not pgb:
            problems.append(f"server ran {len(srv)} statements, pgbench {len(pgb)}")
        elif len(srv) != len(pgb):
            problems.append(f"server ran {len(srv)} statements, pgbench {len(pgb)}:")
            problems += [f"  server:  {norm(a)[:150]}" for a, _ in srv]
            problems += [f"  pgbench: {norm(a)[:150]}" for a, _ in pgb]
        else:
            for n, ((a, pa), (b, pb)) in enumerate(zip(srv, pgb), 1):
                na, nb = norm(a), norm(b)
                va, vb = values(pa), values(pb)
                if na == nb:
                    if missing(va, vb) or missing(vb, va):
                        problems.append(f"statement {n}: values differ: server only {missing(va, vb)}, pgbench only {missing(vb, va)}")
                elif na in nb:
                    if missing(va, vb):
                        problems.append(f"statement {n} (wrapped): server values {missing(va, vb)} missing in pgbench")
                else:
                    problems.append(f"statement {n}: text differs:\n  server:  {na}\n  pgbench: {nb}")
        if problems:
            bad += 1
            print(f"{q}: DIFFERENT\n  " + "\n  ".join(problems))
        else:
            print(f"{q}: same {len(srv)} statements and values as the server")
    sys.exit(1 if bad or not segs else 0)


if __name__ == "__main__":
    main()
