#!/usr/bin/env python3
"""An independent check of what refuge publishes to analysts.

Reads, as an analyst would, the published tables of the warehouse and the
output of refuge.population_summary() and refuge_warehouse.flows(), builds the
equations that tie the published figures together from their meaning (a row's
cells add up to its sex totals, ...), and checks with exact rational
arithmetic that:

  - every figure shown is 0 or at least k;
  - no equation holds exactly one suppressed figure, nor suppressed figures of
    one sign that add up to less than k;
  - no suppressed figure is determined by all the equations together.

Prints TAP lines ("ok N - ..."), one per check.  Input: JSON on stdin,
{"k": 5, "snapshots": [...], "summary": [...], "flows": [...]}.
"""
import json
import sys
from fractions import Fraction

N = 0
FAILED = 0


def ok(cond, what):
    global N, FAILED
    N += 1
    print(("ok %d - %s" % (N, what)) if cond else ("not ok %d - %s" % (N, what)))
    if not cond:
        FAILED += 1
    sys.stdout.flush()


class System:
    """Variables with a value (None = suppressed, or unknown to everyone) and equations sum(coef * var) = 0."""

    def __init__(self, name):
        self.name = name
        self.vars = {}          # key -> shown value or None
        self.truth = {}         # key -> true value when known to the checker (for sums), else None
        self.eqs = []           # list of dict key -> coef

    def var(self, key, shown, truth=None):
        self.vars[key] = shown
        self.truth[key] = truth

    def eq(self, terms):
        terms = {k: c for k, c in terms.items() if k in self.vars and c != 0}
        if terms:
            self.eqs.append(terms)

    def check(self, k):
        small = [(key, v) for key, v in self.vars.items() if v is not None and 0 < v < k]
        ok(not small, "%s: no figure shown describes 1 to %d people%s" % (self.name, k - 1,
                                                                          (" (%s)" % small[:3]) if small else ""))
        unknown = [key for key, v in self.vars.items() if v is None]
        index = {key: i for i, key in enumerate(unknown)}
        # equation by equation
        lonely = []
        for terms in self.eqs:
            s = [key for key in terms if self.vars[key] is None]
            if len(s) == 1:
                lonely.append(s[0])
        ok(not lonely, "%s: no equation holds a single suppressed figure%s" % (self.name,
                                                                              (" (%s)" % lonely[:3]) if lonely else ""))
        # together: Gauss-Jordan over the rationals on the unknowns
        rows = []
        for terms in self.eqs:
            row = [Fraction(0)] * len(unknown)
            any_unknown = False
            for key, c in terms.items():
                if key in index:
                    row[index[key]] += c
                    any_unknown = True
            if any_unknown:
                rows.append(row)
        m = len(unknown)
        pivots = []
        r = 0
        for c in range(m):
            p = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
            if p is None:
                continue
            rows[r], rows[p] = rows[p], rows[r]
            inv = 1 / rows[r][c]
            rows[r] = [x * inv for x in rows[r]]
            for i in range(len(rows)):
                if i != r and rows[i][c] != 0:
                    f = rows[i][c]
                    rows[i] = [a - f * b for a, b in zip(rows[i], rows[r])]
            pivots.append((r, c))
            r += 1
        determined = [unknown[c] for (i, c) in pivots if all(rows[i][j] == 0 for j in range(m) if j != c)]
        ok(not determined, "%s: no suppressed figure can be recomputed from the published ones (%d suppressed, %d equations)%s"
           % (self.name, len(unknown), len(self.eqs), (" (%s)" % determined[:3]) if determined else ""))


def population(snap, k):
    """The published population of one snapshot: cells, rows, totals, bands."""
    sid = snap["id"]
    systems = {}
    for c in snap["cells"]:
        s = systems.setdefault(c["operation"], System("snapshot %s %s population" % (sid, c["operation"])))
        s.var(("cell", c["origin"], c["ptype"], c["sex"], c["bracket"]), c["n"])
    for r in snap["rows"]:
        s = systems.setdefault(r["operation"], System("snapshot %s %s population" % (sid, r["operation"])))
        for sex, key in (("F", "female"), ("M", "male"), ("U", "unknown_sex")):
            s.var(("row_sex", r["origin"], r["ptype"], sex), r[key])
        s.var(("row", r["origin"], r["ptype"]), r["total"])
    for t in snap["totals"]:
        s = systems[t["operation"]]
        s.var(("op",), t["individuals"])
        for sex, key in (("F", "female"), ("M", "male"), ("U", "unknown_sex")):
            s.var(("op_sex", sex), t[key])
        s.var(("children",), t["children"])
        s.var(("unknown_age",), t["unknown_age"])
    for b in snap["bands"]:
        s = systems[b["operation"]]
        s.var(("band", b["sex"], b["band"]), b["n"])
    brackets = {"0-4": "0_4", "5-11": "5_11", "12-17": "12_17", "60-64": "60", "65-69": "60", "70-74": "60",
                "75-79": "60", "80+": "60"}
    for op, s in systems.items():
        keys = list(s.vars)
        rows = {(key[1], key[2]) for key in keys if key[0] == "row"}
        for (origin, ptype) in rows:
            for sex in ("F", "M", "U"):
                e = {key: 1 for key in keys if key[0] == "cell" and key[1:4] == (origin, ptype, sex)}
                e[("row_sex", origin, ptype, sex)] = -1
                s.eq(e)
            e = {("row_sex", origin, ptype, sex): 1 for sex in ("F", "M", "U")}
            e[("row", origin, ptype)] = -1
            s.eq(e)
        e = {("row", o, p): 1 for (o, p) in rows}
        e[("op",)] = -1
        s.eq(e)
        for sex in ("F", "M", "U"):
            e = {("row_sex", o, p, sex): 1 for (o, p) in rows}
            e[("op_sex", sex)] = -1
            s.eq(e)
        e = {key: 1 for key in keys if key[0] == "cell" and key[4] in ("0_4", "5_11", "12_17")}
        e[("children",)] = -1
        s.eq(e)
        e = {key: 1 for key in keys if key[0] == "cell" and key[4] == "unknown"}
        e[("unknown_age",)] = -1
        s.eq(e)
        for sex in ("F", "M"):
            for bracket in ("0_4", "5_11", "12_17", "18_59", "60"):
                e = {key: 1 for key in keys if key[0] == "cell" and key[3] == sex and key[4] == bracket}
                for key in keys:
                    if key[0] == "band" and key[1] == sex and brackets.get(key[2], "18_59") == bracket:
                        e[key] = -1
                s.eq(e)
            e = {key: 1 for key in keys if key[0] == "band" and key[1] == sex}
            for key in keys:
                if key[0] == "cell" and key[3] == sex and key[4] == "unknown":
                    e[key] = 1
            e[("op_sex", sex)] = -1
            s.eq(e)
        s.check(k)
    return systems


def cases(snap, k, initial):
    """Cases by state and steps: a non-initial state holds what entered minus what left."""
    systems = {}
    for c in snap["case_states"]:
        s = systems.setdefault((c["module"], c["operation"]),
                               System("snapshot %s %s %s cases" % (snap["id"], c["operation"], c["module"])))
        s.var(("state", c["state"], c["closed"]), c["cases"])
    for st in snap["case_steps"]:
        s = systems.setdefault((st["module"], st["operation"]),
                               System("snapshot %s %s %s cases" % (snap["id"], st["operation"], st["module"])))
        s.var(("step", st["from"], st["to"]), st["steps"])
    for (module, op), s in systems.items():
        keys = list(s.vars)
        # every state a case is in or has passed through: one no case is in
        # now is absent from the table, its count known to be 0
        states = {key[1] for key in keys if key[0] == "state"} \
            | {key[2] for key in keys if key[0] == "step"} | {key[1] for key in keys if key[0] == "step" and key[1]}
        for state in states:
            if state == initial.get(module) or state == "*":
                continue
            e = {key: -1 for key in keys if key[0] == "state" and key[1] == state}
            for key in keys:
                if key[0] == "step" and key[2] == state:
                    e[key] = e.get(key, 0) + 1
                if key[0] == "step" and key[1] == state:
                    e[key] = e.get(key, 0) - 1
            s.eq(e)
        s.check(k)


def main():
    data = json.load(sys.stdin)
    k = data["k"]
    for snap in data["snapshots"]:
        population(snap, k)
        cases(snap, k, data["initial_states"])
    # population_summary for analysts: the latest snapshot's published cells
    if data["snapshots"]:
        latest = data["snapshots"][-1]
        published = {(c["operation"], c["origin"], c["ptype"], c["sex"], c["bracket"]): c["n"] for c in latest["cells"]}
        shown = {(c["operation"], c["origin"], c["ptype"], c["sex"], c["bracket"]): c["n"]
                 for c in data["summary"] if c["site"] is None}
        ok(shown == published and len(shown) == len(data["summary"]),
           "population_summary shows an analyst the latest snapshot's published cells (%d), nothing live" % len(shown))
    # a supervisor's live population_summary: every site's and operation's total may be known
    ops = {}
    for c in data["summary_live"]:
        s = ops.setdefault(c["operation"], System("population_summary %s" % c["operation"]))
        s.var(("cell", c["site"], c["ptype"], c["origin"], c["sex"], c["bracket"]), c["n"])
    for op, s in ops.items():
        sites = {key[1] for key in s.vars}
        for site in sites:
            known = data["site_totals"][op + "|" + site]
            s.var(("site", site), known)
            e = {key: 1 for key in list(s.vars) if key[0] == "cell" and key[1] == site}
            e[("site", site)] = -1
            s.eq(e)
        s.check(k)
    # flows: with both snapshots' totals known, arrivals - departures + moved in - moved out is known
    for f in data["flows"]:
        s = System("flows %s" % f["operation"])
        for key in ("arrivals", "departures", "moved_in", "moved_out"):
            s.var((key,), f[key])
        s.var(("n0",), f["n0"])
        s.var(("n1",), f["n1"])
        s.eq({("arrivals",): 1, ("departures",): -1, ("moved_in",): 1, ("moved_out",): -1, ("n1",): -1, ("n0",): 1})
        s.check(k)
        for key in ("resettled", "returned", "naturalised"):
            ok(f[key] is None or f[key] == 0 or f[key] >= k, "flows %s: %s is 0, at least %d, or suppressed" % (f["operation"], key, k))
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
