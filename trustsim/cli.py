"""The ``trustsim`` command: ``run`` a scenario, ``validate`` a config.

Exit codes: 0 success, 2 bad input (one message naming the key and what is
allowed, no traceback, nothing written), 1 internal error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from trustsim.config import ConfigError, Scenario, load_scenario, parse_assignment
from trustsim.metrics import overtake_step

log = logging.getLogger("trustsim")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"trustsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trustsim: interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: say so plainly, keep the details
        log.debug("internal error", exc_info=True)
        print(f"trustsim: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trustsim", description="Simulate customer trust, word-of-mouth and strategy."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run one scenario and write tables and figures")
    run.add_argument("config", type=Path, help="scenario YAML, e.g. configs/baseline.yaml")
    run.add_argument("--out", type=Path, help="output folder (default results/<config name>/)")
    run.add_argument(
        "--seed",
        type=_non_negative,
        help="random seed (default: fresh entropy, recorded in manifest.json)",
    )
    run.add_argument("--steps", type=_non_negative, help="number of weeks (default: config)")
    _add_set(run)
    run.set_defaults(handler=cmd_run)

    validate = commands.add_parser("validate", help="check a scenario file and exit")
    validate.add_argument("config", type=Path)
    _add_set(validate)
    validate.set_defaults(handler=cmd_validate)
    return parser


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set network.kind=complete or "
        "--set firms.trust_first.warn_rate=0.5 (repeatable)",
    )


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0 (got {text!r})")
    return value


def _scenario(args: argparse.Namespace) -> Scenario:
    overrides = dict(parse_assignment(item) for item in args.overrides)
    return load_scenario(args.config, overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = _scenario(args)
    print(
        f"{args.config}: valid ({scenario.population.size} customers, "
        f"{len(scenario.firms)} firms: {', '.join(scenario.firm_names)}; "
        f"{scenario.network.kind} network; {scenario.steps} weeks)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from trustsim.io import write_run
    from trustsim.plots import save_run_figures
    from trustsim.simulate import run

    scenario = _scenario(args)
    out = args.out or Path("results") / args.config.stem
    result = run(scenario, seed=args.seed, steps=args.steps)
    written = write_run(result, out) + save_run_figures(result.timeseries, out)
    print(summary(result.timeseries))
    print(
        f"\nseed entropy {result.manifest['seed_entropy']}; wrote "
        f"{', '.join(p.name for p in written)} to {out}/"
    )
    return 0


def summary(ts: pd.DataFrame) -> str:
    """The final state per firm and who overtook whom on cumulative profit."""
    final = ts[ts.step == ts.step.max()].set_index("firm")
    table = pd.DataFrame(
        {
            "customers": final.customers.astype(int),
            "share %": (100 * final.share).round(1),
            "cohort ret. %": (100 * final.cohort_retention).round(1),
            "reputation": final.reputation.round(3),
            "rating": final.rating.round(2),
            "cum. profit": final.cumulative_profit.round(0),
            "NPV": final.npv.round(0),
        }
    )
    lines = [f"after {int(ts.step.max())} weeks", table.to_string()]
    profit = ts.pivot(index="step", columns="firm", values="cumulative_profit")
    for leader in profit.columns:
        for chaser in profit.columns:
            week = overtake_step(profit[leader].to_numpy(), profit[chaser].to_numpy())
            if leader != chaser and week is not None and week > 0:
                lines.append(
                    f"{chaser} overtakes {leader} on cumulative profit in week "
                    f"{int(profit.index[week])}"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
