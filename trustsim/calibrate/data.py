"""Targets from the data a firm holds (ODD 8.6), and an example of such data.

- **Customers** (``firm, start, end``; weeks, ``end`` empty while still a customer):
  Kaplan-Meier retention by tenure at chosen weeks with its standard error
  (statsmodels' ``SurvfuncRight``), a ``cohort_retention`` target. With customers
  who joined at different times this is retention by tenure, which equals the
  week-0 cohort's when churn does not drift over the period.
- **Survey answers** (``firm, week, answer`` on the 0-10 scale): the NPS with a
  bootstrap standard error (scipy), an ``nps`` target.
- **Reviews** (``firm, week, stars``): the share of each star level in weeks 1 to
  the last, with its binomial standard error, ``star_share_k`` targets.

:func:`example_data` writes such files from a simulated market at known parameter
values, so the path from raw rows to a fit can be tried end to end.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustsim.schema import ConfigError

COLUMNS = {
    "customers": ("firm", "start", "end"),
    "surveys": ("firm", "week", "answer"),
    "reviews": ("firm", "week", "stars"),
}


def read_table(path: Path, kind: str) -> pd.DataFrame:
    """A CSV of ``kind`` with its required columns, or one error naming what is missing."""
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise ConfigError(f"--{kind} {path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--{kind} {path}: not a CSV table ({exc})") from None
    missing = [c for c in COLUMNS[kind] if c not in table.columns]
    if missing:
        raise ConfigError(
            f"--{kind} {path}: missing column(s) {', '.join(missing)}; "
            f"a {kind} file has {', '.join(COLUMNS[kind])}"
        )
    return table


def retention_targets(customers: pd.DataFrame, weeks: list[int]) -> list[dict[str, Any]]:
    """Kaplan-Meier retention of each firm's customers at each of ``weeks`` of tenure."""
    from statsmodels.duration.survfunc import SurvfuncRight

    observed_until = float(np.nanmax(customers[["start", "end"]].to_numpy(dtype=float)))
    targets = []
    for firm, group in customers.groupby("firm", sort=True):
        ended = group["end"].notna().to_numpy()
        stop = np.where(ended, group["end"], observed_until).astype(float)
        duration = stop - group["start"].to_numpy(dtype=float)
        fit = SurvfuncRight(np.maximum(duration, 0.5), ended.astype(int))
        for week in weeks:
            k = int(np.searchsorted(fit.surv_times, week, side="right")) - 1
            value = 1.0 if k < 0 else float(fit.surv_prob[k])
            se = 0.0 if k < 0 else float(fit.surv_prob_se[k])
            targets.append(_target("cohort_retention", str(firm), week, value, se, len(group)))
    return targets


def nps_targets(surveys: pd.DataFrame, *, seed: int = 0) -> list[dict[str, Any]]:
    """Each firm's NPS per survey week, with a bootstrap standard error."""
    from scipy.stats import bootstrap

    def nps(answers: np.ndarray, axis: int = -1) -> np.ndarray:
        return 100.0 * (np.mean(answers >= 9, axis=axis) - np.mean(answers <= 6, axis=axis))

    targets = []
    for (firm, week), group in surveys.groupby(["firm", "week"], sort=True):
        answers = group["answer"].to_numpy(dtype=float)
        if answers.size < 2 or not np.all((answers >= 0) & (answers <= 10)):
            raise ConfigError(f"--surveys: {firm}, week {week}: needs 2+ answers from 0 to 10")
        boot = bootstrap((answers,), nps, n_resamples=2000, rng=np.random.default_rng(seed))
        se = float(boot.standard_error)
        targets.append(
            _target("nps", str(firm), int(str(week)), float(nps(answers)), se, answers.size)
        )
    return targets


def star_targets(reviews: pd.DataFrame) -> list[dict[str, Any]]:
    """Each firm's share of 1- to 5-star reviews over all its reviews."""
    targets = []
    last = int(reviews["week"].max())
    for firm, group in reviews.groupby("firm", sort=True):
        n = len(group)
        for stars in range(1, 6):
            share = float((group["stars"] == stars).mean())
            se = float(np.sqrt(share * (1 - share) / n))
            targets.append(_target(f"star_share_{stars}", str(firm), last, share, se, n))
    return targets


def _target(
    statistic: str, firm: str, week: int, value: float, se: float, n: int
) -> dict[str, Any]:
    # a share of 0 or 1 has a binomial standard error of 0: floor it at half a count
    return {"statistic": statistic, "firm": firm, "week": int(week), "value": value,
            "se": max(se, 0.5 / max(n, 1) * (100.0 if statistic == "nps" else 1.0))}  # fmt: skip


def targets_from(
    customers: Path | None = None,
    surveys: Path | None = None,
    reviews: Path | None = None,
    *,
    weeks: list[int] | None = None,
) -> list[dict[str, Any]]:
    """The targets the given files support, in a fit file's ``targets`` form."""
    out: list[dict[str, Any]] = []
    if customers is not None:
        out += retention_targets(read_table(customers, "customers"), weeks or [13, 26, 52])
    if surveys is not None:
        out += nps_targets(read_table(surveys, "surveys"))
    if reviews is not None:
        out += star_targets(read_table(reviews, "reviews"))
    if not out:
        raise ConfigError("targets: give at least one of --customers, --surveys, --reviews")
    return out


def example_data(
    scenario: Any, truth: Mapping[str, float], folder: Path, *, seed: int = 0, steps: int = 52
) -> dict[str, Path]:
    """Raw rows a firm would hold, from one simulated market at ``truth``: its week-0
    customers with the week each left (``customers.csv``), one survey answer per
    customer of each firm at the last week (``surveys.csv``, answers drawn by the NPS
    rule of ODD 7.7 from each customer's trust), and every review (``reviews.csv``)."""
    from trustsim.simulate import run

    world = scenario.with_overrides(dict(truth)) if truth else scenario
    result = run(world, seed=seed, steps=steps, panel_every=1)
    panel = result.panel
    first = panel[panel["step"] == 0].set_index("customer")["provider"]
    wide = panel.pivot(index="customer", columns="step", values="provider")
    rows = []
    providers = wide.to_numpy()
    for customer, firm in first[first != ""].items():
        moved = np.flatnonzero(providers[wide.index.get_loc(customer), 1:] != firm)
        rows.append({"customer": customer, "firm": firm, "start": 0,
                     "end": float(moved[0] + 1) if moved.size else np.nan})  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.csv" for name in COLUMNS}
    pd.DataFrame(rows).to_csv(paths["customers"], index=False)
    last = panel[panel["step"] == steps]
    sv = world.survey
    rng = np.random.default_rng(seed)
    answers = []
    for firm in world.firm_names:
        trust = last.loc[last["provider"] == firm, f"trust_{firm}"].to_numpy()
        latent = (
            sv.nps_shift + sv.nps_slope * trust + sv.nps_noise * rng.standard_normal(trust.size)
        )
        for answer in np.clip(np.round(latent), 0, 10):
            answers.append({"firm": firm, "week": steps, "answer": int(answer)})
    pd.DataFrame(answers).to_csv(paths["surveys"], index=False)
    ts = result.timeseries
    reviews = [
        {"firm": row["firm"], "week": int(row["step"]), "stars": stars}
        for row in ts.to_dict("records")
        for stars in range(1, 6)
        for _ in range(int(row[f"stars_{stars}"]))
    ]
    pd.DataFrame(reviews, columns=list(COLUMNS["reviews"])).to_csv(paths["reviews"], index=False)
    return paths
