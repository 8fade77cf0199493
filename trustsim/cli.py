"""The ``trustsim`` command: ``run`` a scenario, ``sweep`` an experiment, ``status`` and
``plot`` of its folder, ``validate`` a config.

Exit codes: 0 success, 2 bad input (one message naming the key and what is
allowed, no traceback, nothing written), 1 internal error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from trustsim.config import ConfigError, Scenario, load_scenario, parse_assignment
from trustsim.experiment.executors import BACKENDS
from trustsim.experiment.runner import ExperimentFailed
from trustsim.experiment.store import FAILED, OK
from trustsim.io import claim, folder_kind
from trustsim.metrics import overtake_step
from trustsim.simulate import RunResult

log = logging.getLogger("trustsim")


def main(argv: Sequence[str] | None = None) -> int:
    """The ``trustsim`` command: returns the exit code (2 for bad input)."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are files: no window, no display needed
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
    except BrokenPipeError:  # the reader went away (`trustsim scenarios | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ExperimentFailed as exc:
        print(f"trustsim: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # an internal error: say so plainly, keep the details
        if interrupted(exc):  # Ctrl-C landed in code that turned it into an error
            print("trustsim: interrupted; nothing half-written was left behind", file=sys.stderr)
            return 130
        log.debug("internal error", exc_info=True)
        print(f"trustsim: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def interrupted(exc: BaseException | None) -> bool:
    """Whether a KeyboardInterrupt is anywhere in the exception's chain."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="trustsim",
        description="Simulate customer trust, word-of-mouth and strategy.",
        epilog="New here? trustsim scenarios lists what ships with the package; "
        "trustsim run baseline runs the main scenario; trustsim COMMAND -h explains a command.",
    )
    parser.add_argument("--version", action="version", version=f"trustsim {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run one scenario and write tables and figures")
    run.add_argument(
        "config",
        type=Path,
        help="scenario YAML or built-in name (trustsim scenarios), e.g. baseline",
    )
    run.add_argument("--out", type=Path, help="output folder (default results/<config name>/)")
    run.add_argument(
        "--seed",
        type=_non_negative,
        help="random seed (default: fresh entropy, recorded in manifest.json)",
    )
    run.add_argument("--steps", type=_positive, help="number of weeks, 1 or more (default: config)")
    run.add_argument(
        "--seeds", type=_positive, metavar="N",
        help="N replications (seeds derived from --seed): means with 95%% intervals, bands",
    )  # fmt: skip
    run.add_argument(
        "--panel-every", type=_positive, metavar="K",
        help="also write panel.parquet: every customer every K weeks",
    )  # fmt: skip
    _add_threads(run, "threads the run may use (default: every core)")
    _add_force(run)
    _add_set(run)
    run.set_defaults(handler=cmd_run)

    sweep = commands.add_parser(
        "sweep", help="run an experiment (design x replications); resumable"
    )
    sweep.add_argument(
        "experiment", type=Path, help="experiment YAML, e.g. experiments/strategy_grid.yaml"
    )
    _add_backend(sweep)
    sweep.add_argument("--no-plots", action="store_true", help="skip the figures at the end")
    sweep.set_defaults(handler=cmd_sweep)

    sens = commands.add_parser(
        "sensitivity", help="global sensitivity analysis (SALib) of an experiment; resumable"
    )
    sens.add_argument("experiment", type=Path, help="e.g. experiments/sobol_baseline.yaml")
    _add_backend(sens)
    sens.set_defaults(handler=cmd_sensitivity)

    compare = commands.add_parser(
        "compare",
        help="policy lab: each policy against the baseline policy, paired, in every market",
    )
    compare.add_argument("experiment", type=Path, help="e.g. experiments/warn_policy.yaml")
    _add_backend(compare)
    compare.set_defaults(handler=cmd_compare)

    best = commands.add_parser(
        "optimize",
        help="policy lab: the best setting of one or two levers (a study's optimize: block)",
    )
    best.add_argument("experiment", type=Path, help="e.g. experiments/best_premium.yaml")
    _add_backend(best)
    best.set_defaults(handler=cmd_optimize)

    calibrate = commands.add_parser(
        "calibrate", help="fit parameters to a market's data by ABC-SMC (pyabc), resumable"
    )
    calibrate.add_argument("fit", type=Path, nargs="?", help="a fit file (YAML)")
    calibrate.add_argument(
        "--list", action="store_true", help="list the statistics a target can name, and exit"
    )
    _add_backend(calibrate)
    calibrate.set_defaults(handler=cmd_calibrate)

    targets = commands.add_parser(
        "targets", help="turn a firm's raw data (customers, surveys, reviews) into fit targets"
    )
    targets.add_argument("--customers", type=Path, help="CSV: firm, start, end (weeks)")
    targets.add_argument("--surveys", type=Path, help="CSV: firm, week, answer (0 to 10)")
    targets.add_argument("--reviews", type=Path, help="CSV: firm, week, stars (1 to 5)")
    targets.add_argument(
        "--weeks", default="13,26,52", help="retention at these weeks of tenure (default 13,26,52)"
    )
    targets.add_argument("--out", type=Path, help="write the targets here (default: print them)")
    targets.add_argument(
        "--example", type=Path, metavar="DIR",
        help="write example raw data (a simulated baseline market) into DIR, and exit",
    )  # fmt: skip
    targets.set_defaults(handler=cmd_targets)

    facts = commands.add_parser(
        "facts", help="measure the calibration facts (ODD 8.4) of a scenario, with 95%% intervals"
    )
    facts.add_argument(
        "config", type=Path, nargs="?", default=Path("baseline"),
        help="scenario YAML or built-in name (default: the built-in baseline)",
    )  # fmt: skip
    facts.add_argument("--seeds", type=_positive, help="replications (default 16; --quick 8)")
    facts.add_argument(
        "--size", type=_positive, help="customers (default: the config's; --quick 1,000)"
    )
    facts.add_argument("--quick", action="store_true", help="fewer seeds and customers")
    _add_backend(facts, out="output folder (default results/facts-<config>/)")
    _add_set(facts)
    facts.set_defaults(handler=cmd_facts)

    app = commands.add_parser("app", help="the classroom app in the browser (offline)")
    _add_serving(app)
    app.set_defaults(handler=cmd_app)

    room = commands.add_parser(
        "classroom", help="a participatory session: students join from their phones as customers"
    )
    _add_serving(room, default_config=None)
    room.add_argument(
        "--lesson",
        choices=["social-proof", "trust"],
        default="social-proof",
        help="the lesson: its built-in scenario (classroom-<lesson>), worlds and pace "
        "(default social-proof; --config plays another scenario instead)",
    )
    room.add_argument(
        "--worlds",
        type=int,
        default=None,
        help="worlds: 1 independent + the rest social (default: the lesson's, or 2 with --config)",
    )
    room.add_argument(
        "--names",
        default=None,
        help="the firms' names, comma-separated, one per firm in the scenario's order "
        "(default: the scenario's, e.g. Northwind,Bluebird,Harbor,Summit)",
    )
    room.add_argument("--seed", type=int, default=1, help="root seed of the worlds (default 1)")
    room.add_argument("--max-students", type=_positive, default=60, help="room size (default 60)")
    room.add_argument(
        "--round-seconds", type=float, default=45.0, help="round timer, 10 to 600 (default 45)"
    )
    room.set_defaults(handler=cmd_classroom)

    listing = commands.add_parser(
        "scenarios", help="list the built-in scenarios and studies, with one line each"
    )
    listing.set_defaults(handler=cmd_scenarios)

    init = commands.add_parser(
        "init", help="start a project: copy editable configs/, experiments/ and a notebook"
    )
    init.add_argument("folder", type=Path, help="a new (or empty) folder")
    init.set_defaults(handler=cmd_init)

    status = commands.add_parser("status", help="runs done, failed and missing in a folder")
    status.add_argument("folder", type=Path)
    status.set_defaults(handler=cmd_status)

    plot = commands.add_parser("plot", help="ensemble figures of an experiment folder")
    plot.add_argument("folder", type=Path)
    plot.set_defaults(handler=cmd_plot)

    validate = commands.add_parser(
        "validate", help="check a scenario, experiment or policy study file and exit"
    )
    validate.add_argument("config", type=Path, help="a scenario, experiment or study YAML")
    validate.add_argument(
        "--dry-run", action="store_true",
        help="experiments and studies: also estimate how long the runs take",
    )  # fmt: skip
    _add_set(validate)
    validate.set_defaults(handler=cmd_validate)
    return parser


def version() -> str:
    """The installed package's version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("trustsim")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


def _add_backend(
    parser: argparse.ArgumentParser, out: str = "results folder (default results/<name>/)"
) -> None:
    """``--out``, ``--backend``, ``--workers`` and ``--scheduler``: where a study's runs go."""
    parser.add_argument("--out", type=Path, help=out)
    _add_force(parser)
    parser.add_argument(
        "--backend", default="processes", choices=list(BACKENDS),
        help="where runs execute (default: processes, one per core)",
    )  # fmt: skip
    parser.add_argument("--workers", type=_positive, help="worker count (default: cores)")
    _add_threads(parser, "threads per run (default: 1 with processes and dask, every core serial)")
    parser.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="a running Dask scheduler, tcp://HOST:PORT (with --backend dask)",
    )  # fmt: skip


def _add_threads(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--threads", type=_positive, metavar="N", help=help)


def _add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an --out folder that holds another kind of results (never mixed)",
    )


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


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (got {text!r})")
    return value


def _scenario(args: argparse.Namespace) -> Scenario:
    overrides = dict(parse_assignment(item) for item in args.overrides)
    return load_scenario(args.config, overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    """``trustsim validate``: check a scenario, experiment, study or fit file."""
    from trustsim.config import read_yaml

    raw = read_yaml(args.config, "scenario, experiment or study")
    if "policies" in raw or "design" in raw:
        return _validate_study(args, is_policy="policies" in raw)
    if "targets" in raw and "parameters" in raw:
        from trustsim import calibrate

        fit = calibrate.load(args.config)
        method = f"{fit.method.generations} generations of {fit.method.population} particles"
        print(f"{args.config}: valid, a fit: {len(fit.parameters)} parameters "
              f"({', '.join(fit.parameters)}) to {len(fit.targets)} targets, {method}")  # fmt: skip
        return 0
    scenario = _scenario(args)
    print(
        f"{args.config}: valid ({scenario.population.size} customers, "
        f"{len(scenario.firms)} firms: {', '.join(scenario.firm_names)}; "
        f"{scenario.network.kind} network; {scenario.steps} weeks)"
    )
    return 0


# Seconds per simulated week of one run on one core: a fixed part and a part per
# customer (benchmarks/bench_model.py on the 2-core reference machine, v2).
STEP_SECONDS, CUSTOMER_WEEK_SECONDS = 5e-3, 1.3e-6


def _validate_study(args: argparse.Namespace, *, is_policy: bool) -> int:
    from trustsim import experiment as ex
    from trustsim import policy

    if args.overrides:
        raise ConfigError("--set: applies to scenario files; edit the experiment's overrides")
    if is_policy:
        study = policy.load(args.config)
        runs, base, steps = _policy_runs(study), study.base, study.horizon
        what = f"a policy study: {len(study.policies)} policies"
    else:
        experiment = ex.load(args.config)
        runs = len(ex.plan(experiment, np.random.SeedSequence(0)))
        base, steps, what = experiment.base, experiment.horizon, "an experiment"
    print(f"{args.config}: valid, {what}; {runs:,} runs of {base.population.size:,} customers "
          f"x {steps} weeks")  # fmt: skip
    if args.dry_run:
        cores = os.cpu_count() or 1
        seconds = runs * steps * (STEP_SECONDS + CUSTOMER_WEEK_SECONDS * base.population.size)
        print(
            f"estimated time: about {_duration(seconds / cores)} on {cores} cores "
            f"(from the benchmark's speed on the reference machine; nothing was run)"
        )
    return 0


def _policy_runs(study: Any) -> int:
    scenarios = len(study.scenario_points(0))
    return scenarios * len(study.policies) * study.replications


def cmd_run(args: argparse.Namespace) -> int:
    """``trustsim run``: one run, its tables and figures."""
    from trustsim.io import write_parquet, write_run
    from trustsim.kernels import use_threads
    from trustsim.plots import save_run_figures
    from trustsim.simulate import run, run_replications

    scenario = _scenario(args)
    use_threads(args.threads)
    out = args.out or default_run_folder(args.config, args.overrides)
    claim(out, "run", force=args.force)
    if args.seeds is not None:
        result = run_replications(scenario, args.seeds, seed=args.seed, steps=args.steps,
                                  panel_every=args.panel_every)  # fmt: skip
    else:
        result = run(scenario, seed=args.seed, steps=args.steps, panel_every=args.panel_every)
    written = write_run(result, out) + save_run_figures(result.timeseries, out, result.events)
    if args.panel_every is not None:
        written.append(out / "panel.parquet")
        write_parquet(written[-1], result.panel)
    print(summary(result.timeseries))
    if not result.events.empty:
        written.append(out / "recovery.parquet")
        print(recovery_summary(result, written[-1]))
    print(
        f"\nseed entropy {result.manifest['seed_entropy']}; wrote "
        f"{', '.join(p.name for p in written)} to {out}/"
    )
    return 0


def recovery_summary(result: RunResult, path: Path) -> str:
    """Write each harmful event's recovery table (ODD 8a) to ``path``; return it in words."""
    from trustsim import recovery
    from trustsim.io import write_parquet

    table = recovery.of_run(result.timeseries, result.events)
    write_parquet(path, table)
    horizon = int(result.timeseries["step"].max())
    lines = ["\nrecovery after each event (weeks until back at the week-before level):"]
    for (week, kind, firm), rows in recovery.summarise(table, horizon).groupby(
        ["week", "kind", "firm"], sort=False
    ):
        said = "; ".join(recovery.describe(row, horizon) for _, row in rows.iterrows())
        lines.append(f"  week {week}, {kind} at {firm}: {said}")
    return "\n".join(lines) if len(lines) > 1 else ""


def default_run_folder(config: Path, overrides: list[str]) -> Path:
    """``results/<config>/``, or ``results/<config>-<hash of the --set values>/`` so that
    variants of one config do not overwrite each other."""
    if not overrides:
        return Path("results") / config.stem
    digest = hashlib.sha256("\n".join(sorted(overrides)).encode()).hexdigest()[:8]
    return Path("results") / f"{config.stem}-{digest}"


def cmd_sweep(args: argparse.Namespace) -> int:
    """``trustsim sweep``: an experiment through the runner, then its figures."""
    from trustsim import experiment as ex

    experiment = ex.load(args.experiment)
    out = args.out or Path("results") / experiment.name
    claim(out, "experiment", force=args.force)
    result = _with_progress(ex.run_experiment, args, experiment, out)
    if result is None:
        return 130
    counts = result.runs["status"].value_counts()
    print(
        f"{len(result.runs)} runs in {out}/: {counts.get(OK, 0)} ok, {counts.get(FAILED, 0)} failed"
    )
    for _, row in result.runs[result.runs["status"] == FAILED].head(5).iterrows():
        print(f"  {row['run_id']} failed: {row['error']}")
    if not args.no_plots:
        _plot(out)
    return 0 if counts.get(FAILED, 0) == 0 else 1


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``trustsim sensitivity``: a SALib study through the runner, then its report."""
    from trustsim import experiment as ex
    from trustsim.experiment.spec import SENSITIVITY
    from trustsim.sensitivity import run_sensitivity

    experiment = ex.load(args.experiment)
    if experiment.design.kind not in SENSITIVITY:
        raise ConfigError(
            f"design.kind: sensitivity needs one of {', '.join(SENSITIVITY)} "
            f"(got {experiment.design.kind}); use trustsim sweep for it"
        )
    out = args.out or Path("results") / experiment.name
    claim(out, "experiment", force=args.force)
    try:
        indices = _with_progress(run_sensitivity, args, experiment, out)
    except RuntimeError as exc:  # failed runs: nothing to analyse yet
        print(f"trustsim: {exc}", file=sys.stderr)
        return 1
    if indices is None:
        return 130
    print((out / "report.md").read_text())
    print(f"wrote sensitivity.parquet, outputs.parquet, figures and report.md to {out}/")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``trustsim compare``: a policy study and its report."""
    from trustsim import policy
    from trustsim.policy.report import write_report

    study = policy.load(args.experiment)
    out = args.out or Path("results") / study.name
    claim(out, "study", force=args.force)
    try:
        result = _with_progress(policy.compare, args, study, out)
    except RuntimeError as exc:  # failed runs: nothing to compare yet
        print(f"trustsim: {exc}", file=sys.stderr)
        return 1
    if result is None:
        return 130
    print(write_report(result))
    print(f"wrote report.md, report.html, figures and tables to {out}/")
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    """``trustsim optimize``: the best setting of a study's levers, and its report."""
    from trustsim import policy
    from trustsim.policy import optimize
    from trustsim.policy.report import write_optimum_report

    study = policy.load(args.experiment)
    if study.optimize is None:
        raise ConfigError(
            f"{args.experiment}: optimize: required (levers: {{KEY: [LOW, HIGH]}}, points, "
            f"criterion: mean, percentile or regret)"
        )
    out = args.out or Path("results") / study.name
    claim(out, "study", force=args.force)
    try:
        result = _with_progress(policy.compare, args, study, out)
    except RuntimeError as exc:
        print(f"trustsim: {exc}", file=sys.stderr)
        return 1
    if result is None:
        return 130
    print(write_optimum_report(optimize.analyse(result)))
    print(f"wrote report.md, report.html, response.png, optimum.parquet to {out}/")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``trustsim calibrate``: fit parameters to targets; a killed fit resumes."""
    from trustsim import calibrate
    from trustsim import experiment as ex

    if args.list:
        print(calibrate.listing())
        return 0
    if args.fit is None:
        raise ConfigError("calibrate: give a fit file (or --list for the statistics)")
    spec = calibrate.load(args.fit)
    out = args.out or Path("results") / spec.name
    claim(out, "fit", force=args.force)
    bar = tqdm(total=spec.method.generations, unit="generation", disable=None)

    def progress(generation: int, total: int, epsilon: float, acceptance: float) -> None:
        bar.n = generation
        bar.set_postfix(epsilon=f"{epsilon:.3g}", acceptance=f"{acceptance:.0%}")

    try:
        with ex.make_executor(
            args.backend, workers=args.workers, scheduler=args.scheduler, threads=args.threads
        ) as pool:
            result = calibrate.fit(spec, out=out, executor=pool, on_generation=progress)
    except KeyboardInterrupt:
        print(f"trustsim: interrupted; finished generations are kept in {out}/history.db and "
              f"the same command resumes", file=sys.stderr)  # fmt: skip
        return 130
    finally:
        bar.close()
    print(result.report)
    print(f"wrote posterior.parquet, calibrated.yaml, figures and report.md to {out}/")
    return 0


def cmd_targets(args: argparse.Namespace) -> int:
    """``trustsim targets``: raw data to targets with standard errors (or example data)."""
    import yaml

    from trustsim.calibrate import data
    from trustsim.io import write_text

    if args.example is not None:
        base = load_scenario("baseline", {"population.size": 1000})
        paths = data.example_data(base, {}, args.example, seed=0)
        print(f"wrote {', '.join(p.name for p in paths.values())} to {args.example}/ "
              f"(the baseline market, 1,000 customers, 52 weeks, seed 0)")  # fmt: skip
        return 0
    try:
        weeks = [int(w) for w in str(args.weeks).split(",")]
    except ValueError:
        raise ConfigError(
            f"--weeks: whole numbers separated by commas (got {args.weeks!r})"
        ) from None
    found = data.targets_from(args.customers, args.surveys, args.reviews, weeks=weeks)
    text = yaml.safe_dump(found, sort_keys=False)
    if args.out is None:
        print(text, end="")
    else:
        write_text(args.out, text)
        print(f"wrote {len(found)} targets to {args.out} (a fit file can say targets: {args.out})")
    return 0


QUICK_SEEDS, QUICK_SIZE = 8, 1000


def cmd_facts(args: argparse.Namespace) -> int:
    """``trustsim facts``: the calibration targets with intervals."""
    from trustsim import experiment as ex
    from trustsim import facts, plots
    from trustsim.io import write_parquet, write_text

    scenario = _scenario(args)
    seeds = args.seeds or (QUICK_SEEDS if args.quick else 16)
    size = args.size or (QUICK_SIZE if args.quick else None)
    out = args.out or Path("results") / f"facts-{args.config.stem}"
    claim(out, "study", force=args.force)
    progress = Progress()
    try:
        with ex.make_executor(
            args.backend, workers=args.workers, scheduler=args.scheduler, threads=args.threads
        ) as pool:
            table, runs = facts.measure_facts(
                scenario, seeds=seeds, size=size, out=out / "runs", executor=pool,
                on_result=progress,
            )  # fmt: skip
    except KeyboardInterrupt:
        print(f"trustsim: interrupted; the same command resumes from {out}/runs/", file=sys.stderr)
        return 130
    except RuntimeError as exc:  # failed runs: nothing to measure
        print(f"trustsim: {exc}", file=sys.stderr)
        return 1
    finally:
        progress.close()
    text = facts.report(table, runs.scenario, seeds)
    write_parquet(out / "facts.parquet", table)
    write_text(out / "facts.md", text)
    figures = {}
    for fact, (_, row) in zip(facts.FACTS, table.iterrows(), strict=True):
        values, point = runs.measure(fact)
        spread = "per seed" if point is None else "bootstrap over worlds"
        figures[fact.name] = plots.fact_figure(fact.name, fact.measure, values, row, spread)
    firm = facts.honest_firm(runs.scenario)
    if firm is not None:
        figures["stars"] = plots.stars_figure(facts.star_shares(runs), firm)
    plots.save_fact_figures(figures, out)
    print(text)
    print(f"wrote facts.md, facts.parquet and {len(figures)} figures to {out}/")
    return 0 if table["holds"].all() else 1


def _with_progress[T](
    run: Callable[..., T], args: argparse.Namespace, experiment: Any, out: Path
) -> T | None:
    """Run a sweep on the chosen backend with a progress bar; None after Ctrl-C."""
    from trustsim import experiment as ex

    progress = Progress()
    try:
        with ex.make_executor(
            args.backend, workers=args.workers, scheduler=args.scheduler, threads=args.threads
        ) as pool:
            return run(
                experiment,
                out=out,
                executor=pool,
                source=str(args.experiment),
                backend=args.backend,
                on_result=progress,
            )
    except KeyboardInterrupt:
        progress.close()
        print(
            f"trustsim: interrupted; finished runs are kept in {out}/ and the same command resumes",
            file=sys.stderr,
        )
        return None
    finally:
        progress.close()


def _add_serving(
    parser: argparse.ArgumentParser, default_config: Path | None = Path("classroom")
) -> None:
    """The options of a command that serves pages: config, host, port, --allow-remote."""
    parser.add_argument(
        "--config",
        type=Path,
        default=default_config,
        help="scenario YAML or built-in name"
        + (" (default: the built-in classroom)" if default_config else ""),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_positive, default=8765)
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="needed to bind any host other than 127.0.0.1 (so the class's devices can reach it)",
    )


def _check_host(args: argparse.Namespace) -> None:
    """Loopback only, unless the teacher asks for the class network (exit code 2)."""
    if args.host != "127.0.0.1" and not args.allow_remote:
        raise ConfigError(
            f"--host {args.host}: binds 127.0.0.1 only, unless you also pass "
            f"--allow-remote (then anyone on that network can reach the pages)"
        )


def cmd_scenarios(args: argparse.Namespace) -> int:
    """``trustsim scenarios``: the built-in scenarios and studies, one line each."""
    from trustsim import builtin

    for kind, title in (("scenario", "scenarios"), ("experiment", "experiments and studies")):
        print(f"built-in {title} (use the name wherever a file is asked for):")
        for name, line in builtin.names(kind).items():
            print(f"  {name:<24} {line}")
    print("\ntrustsim init DIR copies them into a project folder to edit.")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """``trustsim init``: a project folder with editable copies of the built-ins."""
    from trustsim import builtin

    written = builtin.init(args.folder)
    print(f"wrote {', '.join(p.name + '/' for p in written)} to {args.folder}/")
    print(f"next: cd {args.folder} && trustsim run configs/baseline.yaml")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """``trustsim app``: serve the classroom app (loopback unless --allow-remote)."""
    from trustsim import builtin

    _check_host(args)
    args.config = builtin.resolve(args.config, "scenario")
    scenario = load_scenario(args.config)  # a bad config stops here, with exit code 2
    from trustsim.simulate import warm_up

    warm_up()  # compile before serving: the first click must not wait for the compiler
    print(
        f"TrustSim classroom ({scenario.population.size} customers) at "
        f"http://{args.host}:{args.port}/  (Ctrl-C stops)",
        flush=True,
    )
    env = {**os.environ, "TRUSTSIM_APP_CONFIG": str(args.config.resolve()), "MPLBACKEND": "Agg"}
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "trustsim.viz.app",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-open",
    ]
    # become the server (no child left behind when this process is stopped)
    os.execve(sys.executable, command, env)
    return 0  # not reached


def cmd_classroom(args: argparse.Namespace) -> int:
    """``trustsim classroom``: serve a participatory session (loopback unless --allow-remote)."""
    _check_host(args)
    import uvicorn

    from trustsim.simulate import warm_up
    from trustsim.viz.participate import create_app, urls
    from trustsim.viz.session import Session

    warm_up()  # compile before serving: the first round must not wait for the compiler
    try:
        options = session_options(args)
        if options.get("lesson") == "social-proof":
            print("simulating 200 classes like this one (about 10 s)...", flush=True)
        session = Session(**options)
    except ValueError as exc:  # a bad config, or a flag the session refuses: name the flag
        message = str(exc)
        for key in ("max_students", "round_seconds", "worlds", "names"):
            message = message.replace(f"{key}:", f"--{key.replace('_', '-')}:")
        raise ConfigError(message) from None
    teacher, students = urls(args.host, args.port, session)
    print(f"teacher: {teacher}", flush=True)
    print(f"students: {students}  code {session.code}", flush=True)
    print("(keep the teacher link to yourself; Ctrl-C ends the session)", flush=True)
    uvicorn.run(create_app(session, students), host=args.host, port=args.port, log_level="warning")
    return 0


def session_options(args: argparse.Namespace) -> dict[str, Any]:
    """The classroom session's options: the lesson's scenario, worlds, world size and
    pace, unless ``--config`` names another scenario (then one week a round)."""
    from trustsim.viz.lesson import renamed
    from trustsim.viz.lesson import session_options as lesson_options

    options: dict[str, Any] = {
        "seed": args.seed, "max_students": args.max_students, "round_seconds": args.round_seconds,
    }  # fmt: skip
    if args.config is not None:
        options |= {"config": args.config, "worlds": args.worlds or 2}
    else:
        options |= lesson_options(args.lesson, args.max_students, args.worlds)
    if args.names is not None:
        firms = load_scenario(options["config"]).firm_names
        options["overrides"] = {**options.get("overrides", {}), **renamed(args.names, firms)}
    return options


def cmd_status(args: argparse.Namespace) -> int:
    """``trustsim status``: runs done, failed and missing in a folder."""
    from trustsim.experiment.runner import status

    kind = folder_kind(args.folder)
    if kind == "run":
        manifest = json.loads((args.folder / "manifest.json").read_text())
        print(f"{args.folder}: a single run of {manifest['steps']} weeks, finished")
        return 0
    if kind in (None, "other"):
        raise ConfigError(f"{args.folder}: not a TrustSim results folder")
    counts = status(args.folder / "runs" if kind == "study" else args.folder)
    print(
        f"{args.folder}: {counts['done']} done, {counts['failed']} failed, "
        f"{counts['missing']} missing of {counts['total']} runs"
    )
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``trustsim plot``: redraw the figures of a run or an experiment folder."""
    kind = folder_kind(args.folder)
    if kind == "run":  # redraw the run's own figures
        from trustsim.io import read_run
        from trustsim.plots import save_run_figures

        paths = save_run_figures(read_run(args.folder).timeseries, args.folder)
        print(f"wrote {len(paths)} figures to {args.folder}/: {', '.join(p.stem for p in paths)}")
        return 0
    if kind != "experiment":
        raise ConfigError(
            f"{args.folder}: not a run or sweep folder (trustsim facts and compare draw "
            f"their own figures)"
        )
    _plot(args.folder)
    return 0


def _plot(folder: Path) -> None:
    from trustsim.experiment import open_results
    from trustsim.plots import save_experiment_figures

    result = open_results(folder)
    paths = save_experiment_figures(result.timeseries(), result.runs, folder)
    print(f"wrote {len(paths)} figures to {folder}/: {', '.join(sorted({p.stem for p in paths}))}")


class Progress:
    """Runs done and failed as a tqdm bar on stderr; silent when stderr is not a terminal."""

    def __init__(self) -> None:
        self.bar: tqdm[Any] | None = None
        self.failed = 0

    def __call__(self, record: dict[str, object], done: int, total: int) -> None:
        self.failed += record["status"] == FAILED
        if self.bar is None:  # runs finished in earlier sessions do not count toward the rate
            earlier = done + self.failed - 1
            self.bar = tqdm(total=total, initial=earlier, unit="run", disable=None, leave=True)
        self.bar.update(1)
        if self.failed:
            self.bar.set_postfix(failed=self.failed, refresh=False)

    def close(self) -> None:
        """End the bar (once, however often it is called)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def replicated_summary(ts: pd.DataFrame) -> str:
    """Each firm's final state over replications: mean [95% t-interval]."""
    from scipy import stats

    final = ts[ts.step == ts.step.max()]
    n = final["replication"].nunique()
    columns = {"share": ("share %", 100), "cohort_retention": ("cohort ret. %", 100),
               "reputation": ("reputation", 1), "rating": ("rating", 1),
               "cumulative_profit": ("cum. profit", 1), "npv": ("NPV", 1)}  # fmt: skip
    half = stats.t.ppf(0.975, n - 1) / np.sqrt(n)
    rows = {}
    for firm, group in final.groupby("firm"):
        cells = {}
        for metric, (label, scale) in columns.items():
            x = scale * group[metric]
            mean, width = x.mean(), half * x.std(ddof=1)
            cells[label] = f"{mean:.4g} [{mean - width:.4g}, {mean + width:.4g}]"
        rows[firm] = cells
    weeks = []
    for _, rep in ts.groupby("replication"):
        profit = rep.pivot(index="step", columns="firm", values="cumulative_profit")
        last = profit.iloc[-1].sort_values(ascending=False)
        week = overtake_step(profit[last.index[1]].to_numpy(), profit[last.index[0]].to_numpy())
        if week is None:
            weeks.append("nobody")
        else:
            start = int(profit.index[week])
            weeks.append(f"{last.index[0]} from week {start}" if start > 1 else last.index[0])
    table = pd.DataFrame(rows).T.to_string()
    return (
        f"after {int(ts.step.max())} weeks, {n} replications: mean [95% interval]\n{table}\n"
        f"ahead for good on cumulative profit, by replication: {'; '.join(weeks)}"
    )


def summary(ts: pd.DataFrame) -> str:
    """The final state per firm and who overtook whom on cumulative profit."""
    if "replication" in ts.columns:
        return replicated_summary(ts)
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
    lines = [f"after {int(ts.step.max())} weeks", table.to_string(na_rep="n/a")]
    if final.cohort_retention.isna().any():  # retention of nobody is not a number
        lines.append("cohort ret. n/a: the firm had no customers in week 0")
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
