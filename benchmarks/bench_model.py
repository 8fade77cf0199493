"""Speed and memory of the trust model: the compiled engine against its goals and its floor.

Usage::

    python benchmarks/bench_model.py            # the full table (about 2 minutes)
    python benchmarks/bench_model.py --quick    # small sizes only

Each case runs in a fresh Python process, so its peak memory (max RSS) is its
own; the kernels are compiled once beforehand and every case loads them from
the cache. Reported per case: build and stepping time, ns per customer-week,
peak memory. Then the goals of the performance issue, each with the measured
value, and the floor of this design: a step's random draws alone (the kernels
consume whole arrays drawn up front), one compiled pass computing every
customer's trust in every firm, and the fixed cost of a step (the Python around
the kernels, measured at N = 10). Last, the memory of a 10^6-customer model by
array family (customer state, network, one step's draws).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

SEED = 1


def case(kind: str, n: int, steps: int) -> dict[str, float]:
    """Run one case in this process: build, then ``steps`` weeks (or the floor's work)."""
    import trustsim
    from trustsim.model import TrustModel
    from trustsim.phases import trust_matrix
    from trustsim.reference import ReferenceModel
    from trustsim.simulate import warm_up

    scenario = trustsim.Scenario().with_overrides({"population.size": n})
    loading = time.perf_counter()
    if kind != "reference":  # load the cached kernels first: once per process, not per run
        warm_up()
    start = time.perf_counter()
    model: TrustModel | ReferenceModel
    if kind == "reference":
        model = ReferenceModel(scenario, seed=SEED)
    else:
        # as trustsim.run builds it: Mesa's DataCollector off (the records hold the same)
        model = TrustModel(scenario, seed=SEED, agent_handles=False, datacollector=False)
    built = time.perf_counter()
    if kind in ("compiled", "reference"):
        for _ in range(steps):
            model.step()
    else:
        assert isinstance(model, TrustModel)
        for _ in range(steps):
            if kind == "draws only":
                step_draws(model)
            else:
                trust_matrix(model.state, model.context)
    done = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "load_s": start - loading,
        "build_s": built - start,
        "step_s": done - built,
        "peak_gb": peak_kib * 1024 / 1e9,
    }


def step_draws(model: Any) -> list[Any]:
    """Every draw of one step, as ``TrustModel.step`` makes them (talk's, which depend
    on who has a story, left out)."""
    from trustsim import draws

    st, ctx, rng = model.state, model.context, model.streams.phase
    n, m = st.n, ctx.n_firms
    return [
        draws.breach_draws(rng["breach"], n, m),
        draws.encounter_draws(
            rng["encounter"], st.provider, ctx.firms["quality"], ctx.firms["quality_concentration"]
        ),
        draws.uniforms(rng["care"], n), draws.uniforms(rng["review"], n),
        draws.uniforms(rng["aware"], n, m), draws.decision_draws(rng["decide"], n),
    ]  # fmt: skip


def families(n: int) -> dict[str, float]:
    """GB held by the customer state, the network and one step's draws at size ``n``."""
    import numpy as np

    import trustsim
    from trustsim.model import TrustModel

    model = TrustModel(
        trustsim.Scenario().with_overrides({"population.size": n}),
        seed=SEED,
        agent_handles=False,
        datacollector=False,
    )
    st, net = model.state, model.network
    state = sum(v.nbytes for v in vars(st).values() if isinstance(v, np.ndarray))
    adjacency = net.adjacency  # type: ignore[union-attr]
    network = adjacency.data.nbytes + adjacency.indices.nbytes + adjacency.indptr.nbytes
    drawn = 0
    for d in step_draws(model):
        arrays = vars(d).values() if hasattr(d, "__dict__") else [d]
        drawn += sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
    return {"state": state / 1e9, "network": network / 1e9, "draws per step": drawn / 1e9}


def child(*argv: str) -> dict[str, float]:
    """This script with ``argv`` in a fresh process: the JSON of its last line."""
    out = subprocess.run(
        [sys.executable, __file__, *argv], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.splitlines()[-1])


def in_child(kind: str, n: int, steps: int) -> dict[str, float]:
    """:func:`case` in a fresh process."""
    return child("--case", kind.replace(" ", "_"), str(n), str(steps))


def per_customer_week(r: dict[str, float], n: int, steps: int) -> float:
    return 1e9 * r["step_s"] / (n * steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--case", nargs=3, metavar=("KIND", "N", "STEPS"), help=argparse.SUPPRESS)
    parser.add_argument("--families", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, n, steps = args.case
        print(json.dumps(case(kind.replace("_", " "), int(n), int(steps))))
        return
    if args.families:
        print(json.dumps(families(args.families)))
        return

    in_child("one pass", 100, 1)  # compile every kernel once; each case below loads them
    big = 1_000_000 if not args.quick else 100_000
    plan = [
        ("reference", 10_000, 26 if not args.quick else 4),
        ("compiled", 10_000, 26),
        ("compiled", 1_000, 104),
        ("compiled", big, 52 if not args.quick else 10),
        ("draws only", 1_000, 104),
        ("one pass", 1_000, 104),
        ("draws only", big, 10),
        ("one pass", big, 10),
        ("compiled", 10, 2_000),  # the fixed cost of a step: at N = 10 nothing else is left
    ]
    results = {(kind, n): (steps, in_child(kind, n, steps)) for kind, n, steps in plan}
    print(f"{'case':<11}{'N':>11}{'weeks':>7}{'build s':>9}{'weeks s':>9}{'ns/cust-wk':>12}"
          f"{'peak GB':>9}")  # fmt: skip
    for (kind, n), (steps, r) in results.items():
        print(
            f"{kind:<11}{n:>11,}{steps:>7}{r['build_s']:>9.2f}{r['step_s']:>9.2f}"
            f"{per_customer_week(r, n, steps):>12,.0f}{r['peak_gb']:>9.2f}"
        )

    def ns(kind: str, n: int) -> float:
        steps, r = results[(kind, n)]
        return per_customer_week(r, n, steps)

    speedup = ns("reference", 10_000) / ns("compiled", 10_000)
    one_run = results[("compiled", 1_000)][1]["step_s"] + results[("compiled", 1_000)][1]["build_s"]
    large = results[("compiled", big)][1]
    print("\ngoal                                              measured        goal")
    rows = [
        ("speed-up over the reference, N = 10,000", f"{speedup:,.0f}x", ">= 300x"),
        ("ns per customer-week, N = 10,000", f"{ns('compiled', 10_000):,.0f}", "<= 150"),
        ("ns per customer-week, N = 1,000", f"{ns('compiled', 1_000):,.0f}", "<= 250"),
        ("one run, N = 1,000, 104 weeks (build + steps)", f"{1e3 * one_run:,.0f} ms", "< 25 ms"),
        (
            f"N = {big:,} x {results[('compiled', big)][0]} weeks, build + steps",
            f"{large['build_s'] + large['step_s']:.1f} s, {large['peak_gb']:.2f} GB",
            "< 15 s, < 2 GB" if not args.quick else "(quick: smaller)",
        ),
        ("loading the cached kernels, once per process",
         f"{1e3 * results[('compiled', 1_000)][1]['load_s']:,.0f} ms", ""),
        ("floor, N = 1,000: draws alone / one trust pass",
         f"{ns('draws only', 1_000):,.0f} / {ns('one pass', 1_000):,.0f} ns", ""),
        (f"floor, N = {big:,}: draws alone / one trust pass",
         f"{ns('draws only', big):,.0f} / {ns('one pass', big):,.0f} ns", ""),
        ("fixed cost of a step (N = 10), whatever N",
         f"{1e6 * results[('compiled', 10)][1]['step_s'] / 2_000:,.0f} us", ""),
    ]  # fmt: skip
    for label, measured, goal in rows:
        print(f"{label:<50}{measured:>16}  {goal}")
    memory = child("--families", str(big))
    print(f"\nmemory at N = {big:,} by array family (GB): " + ", ".join(
        f"{name} {gb:.3f}" for name, gb in memory.items()
    ))  # fmt: skip


if __name__ == "__main__":
    main()
