"""Speed and memory of the trust model.

Usage::

    python benchmarks/bench_model.py            # the full table (about 3 minutes)
    python benchmarks/bench_model.py --quick    # small sizes only

Each case runs in a fresh Python process so that peak memory (max RSS) is the
case's own. Reports wall time per customer-step of ``trustsim.run`` and of the
agent-by-agent reference on the same scenario and seed, their ratio, and the
vectorised model alone at large N with its peak memory.

Targets (2-core machine): vectorised >= 100x the reference at N = 10,000;
1,000,000 customers x 52 weeks in < 60 s and < 4 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SEED = 1


def case(implementation: str, n: int, steps: int) -> dict[str, float]:
    """Run one case in this process; wall time split into build and stepping."""
    import trustsim
    from trustsim.model import TrustModel
    from trustsim.reference import ReferenceModel

    scenario = trustsim.Scenario().with_overrides({"population.size": n})
    if implementation in FLOORS:
        return floor(implementation, scenario, steps)
    start = time.perf_counter()
    if implementation == "vectorised":
        model: TrustModel | ReferenceModel = TrustModel(scenario, seed=SEED, agent_handles=False)
    else:
        model = ReferenceModel(scenario, seed=SEED)
    built = time.perf_counter()
    for _ in range(steps):
        model.step()
    done = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "build_s": built - start,
        "step_s": done - built,
        "total_s": done - start,
        "peak_gb": peak_kib * 1024 / 1e9,
    }


FLOORS = ("draws only", "one pass")


def floor(kind: str, scenario: object, steps: int) -> dict[str, float]:
    """The floor of this design: a step's random draws alone (they are generated up
    front, whole arrays per phase), or one numpy pass computing every customer's
    trust in every firm (what each phase and the metrics need)."""
    from trustsim import draws
    from trustsim.model import TrustModel
    from trustsim.phases import trust_matrix

    start = time.perf_counter()
    model = TrustModel(scenario, seed=SEED, agent_handles=False)  # type: ignore[arg-type]
    built = time.perf_counter()
    st, ctx, rng, n, m = model.state, model.context, model.streams.phase, model.state.n, 2
    for _ in range(steps):
        if kind == "draws only":
            draws.breach_draws(rng["breach"], n, m)
            draws.encounter_draws(
                rng["encounter"], st.provider, ctx.firms["quality"],
                ctx.firms["quality_concentration"],
            )  # fmt: skip
            draws.uniforms(rng["care"], n)
            draws.uniforms(rng["review"], n)
            draws.uniforms(rng["aware"], n, m)
            draws.decision_draws(rng["decide"], n)
        else:
            trust_matrix(st, ctx)
    done = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "build_s": built - start,
        "step_s": done - built,
        "total_s": done - start,
        "peak_gb": peak_kib * 1024 / 1e9,
    }


def in_child(implementation: str, n: int, steps: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", implementation.replace(" ", "_"), str(n), str(steps)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--case", nargs=3, metavar=("IMPL", "N", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        impl, n, steps = args.case
        print(json.dumps(case(impl.replace("_", " "), int(n), int(steps))))
        return

    compare = [(1_000, 52), (10_000, 26)] if not args.quick else [(1_000, 26)]
    large = [(100_000, 52), (1_000_000, 52)] if not args.quick else [(100_000, 10)]
    rows = []
    print(
        f"{'model':<12}{'N':>10}{'steps':>7}{'build s':>9}{'step s':>9}"
        f"{'ns/cust-step':>14}{'speed-up':>10}{'peak GB':>9}"
    )
    for n, steps in compare:
        results = {impl: in_child(impl, n, steps) for impl in ("reference", "vectorised")}
        speedup = results["reference"]["step_s"] / results["vectorised"]["step_s"]
        for impl, r in results.items():
            rows.append((impl, n, steps, r, speedup if impl == "vectorised" else None))
    for n, steps in large:
        rows.append(("vectorised", n, steps, in_child("vectorised", n, steps), None))
    for n, steps in [compare[0], (1_000_000, 10) if not args.quick else (100_000, 10)]:
        for kind in FLOORS:
            rows.append((kind, n, steps, in_child(kind, n, steps), None))
    for impl, n, steps, r, speedup in rows:
        per = 1e9 * r["step_s"] / (n * steps)
        ratio = f"{speedup:9.0f}x" if speedup else f"{'':>10}"
        print(
            f"{impl:<12}{n:>10,}{steps:>7}{r['build_s']:>9.2f}{r['step_s']:>9.2f}"
            f"{per:>14,.0f}{ratio}{r['peak_gb']:>9.2f}"
        )
    print(
        "\nspeed-up: stepping time of the reference / of the vectorised model, "
        "same scenario and seed.\nfloor: a step's draws alone, and one numpy pass "
        "computing all trust (N x M).\ntargets: >= 100x at N = 10,000; "
        "N = 1,000,000 x 52 weeks: build + steps < 60 s, peak < 4 GB."
    )


if __name__ == "__main__":
    main()
