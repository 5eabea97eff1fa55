# SPDX-License-Identifier: GPL-2.0-or-later
"""The stopping rules of adaptive_asha (doc/searchers.md), written again for
the tests, independently of common/searcher: the plan (rungs, brackets by
mode, trials per bracket, rung times), the bracket of each trial index, and
the decision on each validation report and each failed exit.

Usage:
  asha_rules.py self-test
      checks this module on the documented examples and on made-up runs in
      which a trial went on after a stop, or stopped while the rules keep it.
  asha_rules.py check PARAMS TRIALS ROWS ANSWERS
      PARAMS: {"divisor", "max_rungs", "max_time", "max_trials", "mode",
               "metric", "time_metric", "smaller_is_better"}
      TRIALS: the experiment's trials (GET /experiments/ID/trials .trials)
      ROWS:   every validation row of those trials (GET /trials/ID/metrics)
      ANSWERS: {"TRIAL_ID": ["stop" | "continue", ...]} what each trial was
               told after each of its validation reports, in its order
  Replays the reports in the order the master stored them (row ids; a
  failed trial's exit at its ended_at), prints one line per decision and
  every violation, and exits 1 on any violation.
"""

import json
import sys
from fractions import Fraction

WORST = None  # a failed trial's entry: after every real value


def floor_log(d, x):
    """The largest k with d**k <= x (x >= 1)."""
    k, p = 0, d
    while p <= x:
        k, p = k + 1, p * d
    return k


def plan(d, max_rungs, max_time, max_trials, mode):
    """Brackets, largest first: [{"rungs": [time, ...], "trials": n}]."""
    r = min(max_rungs, floor_log(d, max_time) + 1, floor_log(d, max_trials) + 1)
    if mode == "aggressive":
        sizes = [r]
    elif mode == "standard":
        sizes = list(range(r, (r - 1) // 2, -1))
    elif mode == "conservative":
        sizes = list(range(r, 0, -1))
    else:
        raise ValueError(f"mode {mode!r}")
    weights = [Fraction(d ** (n - 1), n) for n in sizes]
    total = sum(weights)
    counts = [max(1, int(max_trials * w / total)) for w in weights]
    if sum(counts) < max_trials:
        counts[0] += max_trials - sum(counts)
    out = []
    for n, c in zip(sizes, counts):
        times = [max(1, max_time // d ** (n - i - 1)) for i in range(n)]
        out.append({"rungs": times, "trials": c})
    return out


def bracket_of_indices(brackets):
    """Bracket of trial index 0, 1, ...: smooth weighted round robin."""
    keys = []
    for b, br in enumerate(brackets):
        for k in range(br["trials"]):
            # equal keys: the bracket with more rungs (listed earlier) first
            keys.append((Fraction(2 * k + 1, 2 * br["trials"]), -len(br["rungs"]), b))
    return [b for _, _, b in sorted(keys)]


class Asha:
    def __init__(self, d, brackets, smaller_is_better=True, failed_count=True):
        self.d = d
        self.failed_count = failed_count  # False: failures leave no entry (a wrong rule)
        self.brackets = brackets
        self.of = bracket_of_indices(brackets)
        self.sign = 1 if smaller_is_better else -1
        self.rungs = [[[] for _ in br["rungs"]] for br in brackets]
        self.entered = {}  # trial index -> rungs entered
        self.stopped = set()
        self.exited = set()

    def _better(self, a, b):
        """Is value a strictly better than b (None = failed = worst)?"""
        if a is WORST:
            return False
        return b is WORST or a < b

    def validation(self, idx, value, time):
        """The decision on a validation report: "stop" or "continue"."""
        if idx in self.stopped or idx in self.exited:
            return "stop"
        b = self.of[idx]
        times = self.brackets[b]["rungs"]
        v = self.sign * value
        r = self.entered.get(idx, 0)
        while r < len(times) and time >= times[r]:
            rung = self.rungs[b][r]
            pos = sum(1 for x in rung if self._better(x, v))
            rung.append(v)
            self.entered[idx] = r + 1
            if r == len(times) - 1 or pos >= max(len(rung) // self.d, 1):
                self.stopped.add(idx)
                return "stop"
            r += 1
        return "continue"

    def errored(self, idx):
        """A failed exit: while still racing, the worst value enters the next rung."""
        if self.failed_count and idx not in self.stopped and idx not in self.exited:
            r = self.entered.get(idx, 0)
            b = self.of[idx]
            if r < len(self.rungs[b]):
                self.rungs[b][r].append(WORST)
                self.entered[idx] = r + 1
        self.exited.add(idx)


def replay(params, trials, rows, answers, log=print):
    """Violations (a list of messages) of the master's run against the rules."""
    bad = []
    d = params["divisor"]
    brackets = plan(d, params["max_rungs"], params["max_time"], params["max_trials"],
                    params["mode"])
    asha = Asha(d, brackets, params.get("smaller_is_better", True))
    # The same replay without the failed-trial rule: how much that rule mattered.
    other = Asha(d, brackets, params.get("smaller_is_better", True), failed_count=False)
    differ = 0
    n = sum(br["trials"] for br in brackets)
    by_id = {t["id"]: t for t in trials}
    if sorted(t["trial_index"] for t in trials) != list(range(n)):
        bad.append(f"trial indices {sorted(t['trial_index'] for t in trials)}: "
                   f"the plan has 0..{n - 1}")
        return bad
    rows = sorted(rows, key=lambda r: r["id"])
    for a, b in zip(rows, rows[1:]):
        if b["created_at"] < a["created_at"]:
            bad.append(f"row {b['id']} was stored before row {a['id']} (created_at)")
    # Events: validations in row order; failed exits placed by their time.
    events = [(r["created_at"], 0, r["id"], r) for r in rows]
    for t in trials:
        if t["state"] == "ERROR":
            events.append((t["ended_at"], 1, 0, t))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    decided = {t["id"]: [] for t in trials}  # trial id -> [(steps, decision)]
    for _, kind, _, x in events:
        if kind == 1:
            asha.errored(x["trial_index"])
            other.errored(x["trial_index"])
            log(f"trial {x['id']} (index {x['trial_index']}) failed")
            continue
        t = by_id.get(x["trial_id"])
        if t is None:
            bad.append(f"row {x['id']}: trial {x['trial_id']} is not in the experiment")
            continue
        m = x["metrics"]
        if not isinstance(m, dict):
            bad.append(f"row {x['id']}: metrics are not an object")
            continue
        dec = asha.validation(t["trial_index"], m[params["metric"]], m[params["time_metric"]])
        differ += dec != other.validation(t["trial_index"], m[params["metric"]],
                                          m[params["time_metric"]])
        decided[t["id"]].append((x["steps_completed"], dec))
        log(f"row {x['id']}: trial {t['id']} (index {t['trial_index']}, bracket "
            f"{asha.of[t['trial_index']]}) at {x['steps_completed']}: "
            f"{params['metric']} {m[params['metric']]:.6g} -> {dec}")
    log(f"without the failed-trial rule {differ} decision(s) would differ")
    for t in trials:
        tid, ds = t["id"], decided[t["id"]]
        told = answers.get(str(tid), [])
        want = [dec for _, dec in ds]
        if told != want:
            bad.append(f"trial {tid}: the master answered {told}, the rules say {want}")
        stops = [i for i, (_, dec) in enumerate(ds) if dec == "stop"]
        if stops and stops[0] != len(ds) - 1:
            bad.append(f"trial {tid}: reported again after the rules stopped it at "
                       f"{ds[stops[0]][0]} (last report at {ds[-1][0]})")
        if t["state"] == "ERROR":
            continue
        if not stops:
            bad.append(f"trial {tid} ({t['state']}) ended at {t['steps_completed']} "
                       f"though the rules keep it (reports {[s for s, _ in ds]})")
        elif t["state"] != "COMPLETED" or t["steps_completed"] != ds[stops[0]][0]:
            bad.append(f"trial {tid}: {t['state']} at {t['steps_completed']}, the rules "
                       f"stopped it at {ds[stops[0]][0]}")
    return bad


def _self_test():
    fails = []

    def expect(name, got, want):
        if got != want:
            fails.append(f"{name}: got {got}, want {want}")

    # doc/searchers.md: 16 trials split 12/4 give brackets 0 0 1 0 0 0 1 ...
    expect("round robin 12/4", bracket_of_indices([{"rungs": [1, 2, 3], "trials": 12},
                                                   {"rungs": [1, 2], "trials": 4}]),
           [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0])
    expect("max_time 1000, divisor 10: 4 rungs",
           len(plan(10, 5, 1000, 10000, "aggressive")[0]["rungs"]), 4)
    expect("standard plan, d 2, T 16, M 12", plan(2, 3, 16, 12, "standard"),
           [{"rungs": [4, 8, 16], "trials": 7}, {"rungs": [8, 16], "trials": 5}])
    expect("conservative brackets", [len(b["rungs"]) for b in plan(4, 5, 1000, 1000,
                                                                   "conservative")],
           [5, 4, 3, 2, 1])
    # One bracket, rungs 1, 2, 4, d 2: a worse value is stopped once the rung
    # holds two; a failed trial counts as the worst.
    a = Asha(2, [{"rungs": [1, 2, 4], "trials": 4}])
    expect("first at rung 0 goes on", a.validation(0, 5.0, 1), "continue")
    expect("better second goes on", a.validation(1, 4.0, 1), "continue")
    expect("worse third stops", a.validation(2, 9.0, 1), "stop")
    expect("late report of a stopped trial", a.validation(2, 0.0, 2), "stop")
    a.errored(3)
    expect("failed entered rung 0 as worst", a.rungs[0][0][-1], WORST)
    expect("two rungs in one report, top rung stops", a.validation(1, 1.0, 4), "stop")
    # Two failures make the rung hold four, so a second-best newcomer goes on.
    a = Asha(2, [{"rungs": [1, 2], "trials": 4}])
    a.validation(0, 1.0, 1)
    a.errored(1)
    a.errored(2)
    expect("failed trials count in len", a.validation(3, 3.0, 1), "continue")
    # A made-up run checked by replay(): trial 2 went on after its stop, and
    # trial 1 was stopped although the rules keep it.
    params = {"divisor": 2, "max_rungs": 2, "max_time": 2, "max_trials": 3,
              "mode": "aggressive", "metric": "loss", "time_metric": "batches"}
    trials = [{"id": 10 + i, "trial_index": i, "state": "COMPLETED", "steps_completed": 2,
               "ended_at": 9.0} for i in range(3)]
    rows, rid = [], 0
    for tid, steps, loss in [(10, 1, 1.0), (11, 1, 0.5), (12, 1, 3.0), (10, 2, 1.0),
                             (12, 2, 3.0)]:
        rid += 1
        rows.append({"id": rid, "trial_id": tid, "steps_completed": steps,
                     "created_at": float(rid), "metrics": {"loss": loss, "batches": steps}})
    trials[1]["steps_completed"] = 1
    answers = {"10": ["continue", "stop"], "11": ["continue"], "12": ["continue", "stop"]}
    bad = replay(params, trials, rows, answers, log=lambda s: None)
    expect("replay finds the stop that was ignored",
           any("reported again after the rules stopped it at 1" in b for b in bad), True)
    expect("replay finds the answer that differs",
           any(b.startswith("trial 12: the master answered") for b in bad), True)
    expect("replay finds the trial stopped against the rules",
           any(b.startswith("trial 11 (COMPLETED) ended at 1") for b in bad), True)
    # The same run done right passes.
    rows = [r for r in rows if not (r["trial_id"] == 12 and r["steps_completed"] == 2)]
    rows.append({"id": 9, "trial_id": 11, "steps_completed": 2, "created_at": 9.0,
                 "metrics": {"loss": 0.4, "batches": 2}})
    trials[1]["steps_completed"], trials[2]["steps_completed"] = 2, 1
    answers = {"10": ["continue", "stop"], "11": ["continue", "stop"], "12": ["stop"]}
    expect("a run that follows the rules passes",
           replay(params, trials, rows, answers, log=lambda s: None), [])
    for f in fails:
        print("self-test:", f)
    return 1 if fails else 0


def main(argv):
    if argv[1:] == ["self-test"]:
        return _self_test()
    if len(argv) != 6 or argv[1] != "check":
        print(__doc__, file=sys.stderr)
        return 2
    loaded = []
    for path in argv[2:]:
        with open(path) as f:
            loaded.append(json.load(f))
    bad = replay(*loaded)
    for b in bad:
        print("VIOLATION:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
