#!/usr/bin/env python3
"""CPU seconds used so far by processes and all their children.

    cpu.py PID...

For each PID: its user + system time, the time of its children it has
already reaped (cutime, cstime: PostgreSQL backends that have exited), and
the same for every live descendant. Prints the sum in seconds.
"""
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    # fields after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based from pid
    return int(rest[1]), sum(int(x) for x in rest[11:15])


def main():
    table = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            st = stat(p)
            if st:
                table[int(p)] = st
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, seen = 0, set()
    todo = [int(a) for a in sys.argv[1:]]
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        total += table[pid][1]
        todo += children.get(pid, [])
    print(f"{total / TICK:.2f}")


if __name__ == "__main__":
    main()
