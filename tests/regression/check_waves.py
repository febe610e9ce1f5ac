#!/usr/bin/env python3
"""check_waves.py WAVES.vcd TIMELINE.json: the VCD's busy signals equal the timeline's intervals.

The VCD comes from SystemC's own VCD writer over the sc_signals the modules drive; the Perfetto/Chrome JSON from
the timeline of the same run (--timeline-json). For every `busy` signal in the VCD, the high intervals must equal the union of that
module's activities in the timeline, to the picosecond. Also checks the VCD is well formed enough to parse (header,
definitions, monotonic time). Standard library only.
"""
import json
import sys


def parse_vcd(path):
    scope, ids, changes = [], {}, {}
    t, last_t, in_defs = 0, -1, True
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line:
                continue
            if in_defs:
                tok = line.split()
                if tok[0] == "$scope":
                    scope.append(tok[2])
                elif tok[0] == "$upscope":
                    scope.pop()
                elif tok[0] == "$var":
                    width, code, name = int(tok[2]), tok[3], tok[4]
                    # SystemC puts every object of the VCD under a top scope of its own, "SystemC".
                    path = ".".join(scope[1:] if scope and scope[0] == "SystemC" else scope)
                    ids[code] = (path, name, width)
                    changes[code] = []
                elif tok[0] == "$enddefinitions":
                    in_defs = False
                continue
            if line.startswith("#"):
                t = int(line[1:])
                if t < last_t:
                    raise SystemExit(f"{path}: time goes backwards at #{t}")
                last_t = t
            elif line.startswith("$"):
                continue
            elif line[0] in "01xz":
                changes[line[1:]].append((t, line[0]))
            elif line[0] == "b":
                value, code = line[1:].split()
                changes[code].append((t, int(value, 2)))
    return ids, changes


def busy_intervals(seq):
    out, start = [], None
    for t, v in seq:
        if v == "1" and start is None:
            start = t
        elif v == "0" and start is not None:
            if t > start:
                out.append((start, t))
            start = None
    return out


def merged(events):
    out = []
    for s, e in sorted(events):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return [iv for iv in out if iv[1] > iv[0]]


def main():
    vcd, timeline = sys.argv[1], sys.argv[2]
    ids, changes = parse_vcd(vcd)
    data = json.load(open(timeline))
    names = {e["tid"]: e["args"]["name"] for e in data["traceEvents"] if e["ph"] == "M"}
    per_track = {}
    for e in data["traceEvents"]:
        if e["ph"] == "X":
            s = round(e["ts"] * 1e6)
            per_track.setdefault(names[e["tid"]], []).append((s, s + round(e["dur"] * 1e6)))
    checked = 0
    for code, (path, name, width) in ids.items():
        if name != "busy":
            continue
        want = merged(per_track.get(path, []))
        got = busy_intervals(changes[code])
        # Allow 1 ps of rounding on each edge (the timeline stores microseconds with 6 decimals).
        ok = len(want) == len(got) and all(abs(a[0] - b[0]) <= 1 and abs(a[1] - b[1]) <= 1 for a, b in zip(want, got))
        if not ok:
            raise SystemExit(f"{path}.busy: VCD has {len(got)} busy intervals, the log {len(want)}: "
                             f"first VCD {got[:2]}, first log {want[:2]}")
        checked += 1
    if checked == 0:
        raise SystemExit("no busy signal in the VCD")
    print(f"waves: {checked} busy signals match the transaction log")


if __name__ == "__main__":
    main()
