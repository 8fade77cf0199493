"""Speed and memory of the trust model: the compiled engine against its goals and its floor.

Usage::

    python benchmarks/bench_model.py            # the goal table (about 2 minutes)
    python benchmarks/bench_model.py --quick    # small sizes only
    python benchmarks/bench_model.py --huge     # adds 10^7 customers x 52 weeks (opt-in)

Each case runs in a fresh Python process with a set number of threads
(``NUMBA_NUM_THREADS``), so its peak memory (max RSS) is its own; the kernels are
compiled once beforehand (timed, into an empty cache: the cold compilation) and
every case loads them from the cache. Reported per case: build and stepping time,
ns per customer-week, peak memory. Then the goals of the engine issue, each with
the measured value, and the floor of this design: one compiled pass computing
every customer's trust in every firm (a step must at least read the trust state),
and the fixed cost of a step (the Python around the kernels, measured at N = 10).
Last, the memory of the largest model by array family.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

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
            trust_matrix(model.state, model.context)
    done = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "load_s": start - loading,
        "build_s": built - start,
        "step_s": done - built,
        "peak_gb": peak_kib * 1024 / 1e9,
    }


def families(n: int) -> dict[str, float]:
    """GB held by the customer state and the network at size ``n``."""
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
    return {"state": state / 1e9, "network": network / 1e9}


def child(*argv: str, threads: int = 2, cache: str | None = None) -> dict[str, float]:
    """This script with ``argv`` in a fresh process on ``threads`` threads (and numba's
    cache in ``cache``, if given): the JSON of its last line."""
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    out = subprocess.run(
        [sys.executable, __file__, *argv], check=True, capture_output=True, text=True, env=env
    )
    return json.loads(out.stdout.splitlines()[-1])


def in_child(kind: str, n: int, steps: int, threads: int = 2) -> dict[str, float]:
    """:func:`case` in a fresh process on ``threads`` threads."""
    return child("--case", kind.replace(" ", "_"), str(n), str(steps), threads=threads)


def compile_cold() -> dict[str, float]:
    """Compile every kernel into an empty cache (a new machine's first run)."""
    from trustsim.simulate import warm_up

    start = time.perf_counter()
    warm_up()
    return {"compile_s": time.perf_counter() - start}


def per_customer_week(r: dict[str, float], n: int, steps: int) -> float:
    return 1e9 * r["step_s"] / (n * steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--huge", action="store_true", help="add 10^7 customers x 52 weeks")
    parser.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", nargs=3, metavar=("KIND", "N", "STEPS"), help=argparse.SUPPRESS)
    parser.add_argument("--families", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, n, steps = args.case
        print(json.dumps(case(kind.replace("_", " "), int(n), int(steps))))
        return
    if args.compile:
        print(json.dumps(compile_cold()))
        return
    if args.families:
        print(json.dumps(families(args.families)))
        return

    with tempfile.TemporaryDirectory() as empty:
        cold = child("--compile", cache=empty)["compile_s"]
    in_child("one pass", 100, 1)  # compile every kernel into the real cache once
    big = 1_000_000 if not args.quick else 100_000
    wide = 300_000 if not args.quick else 50_000
    plan = [
        ("reference", 10_000, 26 if not args.quick else 4, 1),
        ("compiled", 10_000, 26, 1),
        ("compiled", 1_000, 104, 1),
        ("compiled", 1_000, 104, 2),
        ("compiled", wide, 10, 1),
        ("compiled", wide, 10, 2),
        ("compiled", big, 52 if not args.quick else 10, 2),
        ("one pass", 10_000, 26, 1),
        ("compiled", 10, 2_000, 1),  # the fixed cost of a step: at N = 10 nothing else is left
    ]
    if args.huge:
        plan.append(("compiled", 10_000_000, 52, 2))
    results = {
        (kind, n, threads): (steps, in_child(kind, n, steps, threads))
        for kind, n, steps, threads in plan
    }
    print(f"{'case':<11}{'N':>11}{'weeks':>7}{'threads':>8}{'build s':>9}{'weeks s':>9}"
          f"{'ns/cust-wk':>12}{'peak GB':>9}")  # fmt: skip
    for (kind, n, threads), (steps, r) in results.items():
        print(
            f"{kind:<11}{n:>11,}{steps:>7}{threads:>8}{r['build_s']:>9.2f}{r['step_s']:>9.2f}"
            f"{per_customer_week(r, n, steps):>12,.0f}{r['peak_gb']:>9.2f}"
        )

    def ns(kind: str, n: int, threads: int = 1) -> float:
        steps, r = results[(kind, n, threads)]
        return per_customer_week(r, n, steps)

    def total(n: int, threads: int) -> dict[str, float]:
        r = results[("compiled", n, threads)][1]
        return {"s": r["build_s"] + r["step_s"], "gb": r["peak_gb"]}

    speedup = ns("reference", 10_000) / ns("compiled", 10_000)
    floor = ns("compiled", 10_000) / ns("one pass", 10_000)
    scaling = ns("compiled", wide, 1) / ns("compiled", wide, 2)
    one_run = total(1_000, 1)["s"]
    large = total(big, 2)
    print("\ngoal                                                   measured         goal")
    rows = [
        ("speed-up over the reference, N = 10,000, 1 thread", f"{speedup:,.0f}x", ">= 300x"),
        ("ns per customer-week, N = 10,000, 1 thread", f"{ns('compiled', 10_000):,.0f}",
         "<= 150"),
        ("... as a multiple of one trust pass (the floor)", f"{floor:,.1f}x", "<= 20x"),
        (f"2 threads over 1, N = {wide:,}", f"{scaling:.2f}x", ">= 1.6x"),
        ("one run, N = 1,000, 104 weeks (build + steps)", f"{1e3 * one_run:,.0f} ms",
         "< 25 ms"),
        (f"N = {big:,} x {results[('compiled', big, 2)][0]} weeks, 2 threads",
         f"{large['s']:.1f} s, {large['gb']:.2f} GB",
         "< 10 s" if not args.quick else "(quick: smaller)"),
        ("cold compilation of every kernel", f"{cold:.1f} s", "< 30 s"),
        ("loading the cached kernels, once per process",
         f"{1e3 * results[('compiled', 1_000, 1)][1]['load_s']:,.0f} ms", ""),
        ("floor: one trust pass, N = 10,000", f"{ns('one pass', 10_000):,.0f} ns", ""),
        ("fixed cost of a step (N = 10), whatever N",
         f"{1e6 * results[('compiled', 10, 1)][1]['step_s'] / 2_000:,.0f} us", ""),
    ]  # fmt: skip
    if args.huge:
        huge = total(10_000_000, 2)
        rows.append(("N = 10,000,000 x 52 weeks, 2 threads",
                     f"{huge['s']:.1f} s, {huge['gb']:.2f} GB", "< 120 s, < 12 GB"))  # fmt: skip
    for label, measured, goal in rows:
        print(f"{label:<55}{measured:>16}  {goal}")
    memory = child("--families", str(big))
    print(f"\nmemory at N = {big:,} by array family (GB): " + ", ".join(
        f"{name} {gb:.3f}" for name, gb in memory.items()
    ))  # fmt: skip


if __name__ == "__main__":
    main()
