"""Recovery after an event (ODD 8a): how many weeks until a firm's reputation, share
and NPS are back at their level of the week before.

A run whose measure is not back by the horizon is *censored* at the weeks it could
be watched, never counted as a number of weeks. Over replications, the median
weeks to recover is the Kaplan-Meier median with its 95% interval (statsmodels),
so runs that never recover pull the median up honestly instead of being dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES = ("reputation", "share", "nps")
HARMFUL = ("breach", "viral_review")  # the events recovery is measured from
RECOVERY_COLUMNS = ["event", "week", "kind", "firm", "measure", "before", "weeks", "recovered"]


SMOOTH = 4  # weeks: after the event a measure is read as its trailing 4-week mean (over
# weeks since the event only), so one noisy week neither starts nor ends a fall
FALL_WINDOW = 13  # weeks: a fall that begins later than a quarter after the event is not its


def weeks_to_recover(values: np.ndarray, week: int) -> float:
    """Weeks after the event of ``week`` until ``values`` (indexed by step, from 0) is
    back at its level of the week before (step ``week - 1``); NaN if not by the last step.

    From the event on, the measure is its trailing :data:`SMOOTH`-week mean over the
    weeks since the event. It must first fall below the level (within
    :data:`FALL_WINDOW` weeks; if it does not, the event did not hurt it: 0 weeks),
    then come back to it. Step ``week`` is the event's own week (the event happens at
    its start), so a measure back at the end of week ``week + k`` took ``k`` weeks. A
    share falls weeks after a breach, as customers leave when they next reconsider: the
    fall is looked for, not assumed to be immediate.
    """
    values = np.asarray(values, dtype=float)
    level = values[week - 1]
    after = pd.Series(values[week:]).rolling(SMOOTH, min_periods=1).mean().to_numpy()
    fallen = np.flatnonzero(after[: FALL_WINDOW + 1] < level)
    if fallen.size == 0:
        return 0.0
    back = np.flatnonzero(after[fallen[0] :] >= level)
    return float(fallen[0] + back[0]) if back.size else float("nan")


def recovery(
    timeseries: pd.DataFrame, events: pd.DataFrame, measures: tuple[str, ...] = MEASURES
) -> pd.DataFrame:
    """Recovery of each harmful event's firm in one run: one row per event and measure.

    ``timeseries`` is one run's table (``step``, ``firm``, metrics); ``events`` its
    events (``week``, ``kind``, ``firm``, ...), as in ``RunResult.events``. Only
    breaches and bad viral reviews are measured. ``weeks`` is NaN where the measure
    is not back by the horizon (``recovered`` False); ``before`` is the level it
    must regain.
    """
    rows = []
    harmful = events[events["kind"].isin(HARMFUL) & (events.get("detail", "") != "good story")]
    for number, event in harmful.reset_index(drop=True).iterrows():
        series = timeseries[timeseries["firm"] == event["firm"]].set_index("step").sort_index()
        week = int(event["week"])
        for measure in measures:
            values = series[measure].to_numpy(dtype=float)
            weeks = weeks_to_recover(values, week)
            rows.append((number, week, event["kind"], event["firm"], measure,
                         values[week - 1], weeks, bool(np.isfinite(weeks))))  # fmt: skip
    return pd.DataFrame(rows, columns=RECOVERY_COLUMNS)


def summarise(table: pd.DataFrame, horizon: int, by: list[str] | None = None) -> pd.DataFrame:
    """Over replications: how many recovered by the horizon, and the Kaplan-Meier median
    weeks to recover with its 95% interval (NaN where fewer than half recover, or where
    the interval's end cannot be estimated from the runs).

    ``table`` stacks :func:`recovery` tables (with a ``replication`` column, and any
    ``by`` columns such as ``policy``); censored runs are watched for
    ``horizon - week`` weeks.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    keys = [*(by or []), "event", "week", "kind", "firm", "measure"]
    rows = []
    for key, group in table.groupby(keys, sort=False):
        watched = horizon - group["week"].to_numpy()
        time = np.where(group["recovered"], group["weeks"], watched).astype(float)
        status = group["recovered"].to_numpy(dtype=int)
        median = low = high = float("nan")
        if status.all() and np.ptp(time) == 0:  # every run back in the same week
            median = low = high = float(time[0])
        elif status.any():
            fit = SurvfuncRight(time + 1.0, status)  # +1: statsmodels wants times > 0
            median = float(fit.quantile(0.5)) - 1.0
            with np.errstate(divide="ignore", invalid="ignore"):  # an open-ended interval
                low, high = (float(x) - 1.0 for x in fit.quantile_ci(0.5))
            if np.isnan(low) and np.isfinite(median):  # open below: weeks start at 0
                low = 0.0
        rows.append((*key, len(group), int(status.sum()), median, low, high))
    columns = [*keys, "runs", "recovered", "median_weeks", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def describe(row: pd.Series, horizon: int) -> str:
    """One summary row in words: ``reputation: back in 12 weeks [8 to 20] (7 of 8 runs)``."""
    runs, back = int(row["runs"]), int(row["recovered"])
    if not np.isfinite(row["median_weeks"]):
        return (
            f"{row['measure']}: not back by week {horizon} in most runs "
            f"({back} of {runs} recovered)"
        )
    low = "?" if not np.isfinite(row["ci_low"]) else f"{row['ci_low']:.0f}"
    high = "beyond the horizon" if not np.isfinite(row["ci_high"]) else f"{row['ci_high']:.0f}"
    return (
        f"{row['measure']}: back in {_weeks(row['median_weeks'])} (median, 95% CI {low} to "
        f"{high}; {back} of {runs} runs recovered by week {horizon})"
    )


def of_run(timeseries: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """:func:`recovery` for one run or each replication of a ``run --seeds`` result (the
    ``replication`` column of both tables), stacked with that column."""
    if "replication" not in timeseries.columns:
        return recovery(timeseries, events).assign(replication=0)
    frames = [
        recovery(group, events[events["replication"] == r]).assign(replication=r)
        for r, group in timeseries.groupby("replication", sort=True)
    ]
    return pd.concat(frames, ignore_index=True)


def _weeks(n: float) -> str:
    return "1 week" if n == 1 else f"{n:.0f} weeks"
