#!/usr/bin/env python3
"""EXPLAIN (ANALYZE, BUFFERS) of the server's own statements, from its log.

    explain.py SQL_CHECK_LOG > explain.sql      (then: psql -f explain.sql)

Reads the statement log written during run.sh's SQL check (one request per
query, log_min_duration_statement=0) and writes a psql script that runs each
statement the server executed for that request once more under EXPLAIN
(ANALYZE, BUFFERS), with its logged parameter values pasted in as literals
(a custom plan; the server's prepared statements may use a generic plan after
five executions). Each runs once unshown first, so the output is warm. Per query one transaction, rolled back; set_config calls
and transaction control run as they are, so the route's settings apply.
"""
import re
import sys

from check_sql import EXEC, LINE, MARK, PARAM


def main():
    out = []
    cur = None
    last = None
    queries = {}
    for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        _, app, kind, msg = m.groups()
        if kind == "LOG":
            last = None
            e = EXEC.match(msg)
            if not e:
                continue
            mk = MARK.search(e.group(1))
            if mk:
                cur = queries.setdefault(mk.group(1), [])
                continue
            if cur is None or app in ("psql", "pgbench"):
                continue
            last = [e.group(1), []]
            cur.append(last)
        elif kind == "DETAIL" and last is not None and msg.startswith("parameters: "):
            last[1] = PARAM.findall(msg)
            last = None
    for q, stmts in queries.items():
        out.append(f"\\echo '=== {q} ==='")
        out.append("BEGIN;")
        for sql, params in stmts:
            s = sql.strip()
            if re.match(r"^(BEGIN|COMMIT|ROLLBACK|SET TRANSACTION)", s, re.I):
                continue
            for n in range(len(params), 0, -1):
                s = s.replace(f"${n}", params[n - 1])
            if "set_config(" in s:
                out.append(f"{s};")
            else:
                # once unseen (the session's first PostGIS/PROJ use is slow), then shown
                out.append("\\o /dev/null")
                out.append(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {s};")
                out.append("\\o")
                out.append(f"\\echo '--- {s[:160].replace(chr(39), chr(34))}'")
                out.append(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {s};")
        out.append("ROLLBACK;")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
