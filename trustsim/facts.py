"""The calibration facts of ODD 1 (patterns) and 8.4, measured with intervals.

``measure_facts(scenario)`` runs, through the experiment runner (so in
parallel and resumably), the few market variants each fact needs, built from
the scenario: the scenario itself; two identical firms where one always warns
and one never does (with the per-customer panel); two identical firms where
one charges 10% more; four identical new firms with social proof on and off;
and the Bass limit. Every variant runs on the same seeds (common random
numbers), so paired facts are paired. Each fact is then a number per seed (or
per set of worlds) with a 95% interval, a target and a verdict.

The same measures back the tests (``tests/test_facts.py``, quick mode).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from trustsim import rules
from trustsim.config import Scenario
from trustsim.experiment.runner import OnResult
from trustsim.experiment.spec import Experiment, ListDesign, Outputs
from trustsim.experiment.store import OK, ExperimentResult
from trustsim.metrics import gini

HORIZON = 52  # every fact is read at or up to week 52
PRICE_RISE = 0.10
SEARCH_WINDOW = 13  # weeks after a warning (Ascarza et al.: three months)
IDENTICAL = {"strategy": "custom", "initial_share": 0.25}  # the schema's middle-of-the-road firm

# four identical firms entering a market everyone knows of (MusicLab's worlds)
NEW_MARKET = {
    "firms": [{"name": f"firm{i}", "initial_share": 0.0} for i in range(4)],
    "market.initial_awareness": 1.0,
}

# Choices made without seeing what others chose: Salganik's independent condition
# (also the classroom's independent world)
NO_SOCIAL_PROOF = {"market.social_proof": False}

# The market variants the facts need, as dotted overrides of the scenario.
VARIANTS: dict[str, dict[str, Any]] = {
    "scenario": {},
    "warnings": {
        "firms": [
            {**IDENTICAL, "name": "warns", "warn_rate": 1.0},
            {**IDENTICAL, "name": "never_warns", "warn_rate": 0.0},
        ]
    },
    "price_equal": {
        "firms": [{**IDENTICAL, "name": "raises"}, {**IDENTICAL, "name": "keeps"}],
    },
    "price_raised": {
        "firms": [
            {**IDENTICAL, "name": "raises", "price": 1.0 + PRICE_RISE},
            {**IDENTICAL, "name": "keeps"},
        ],
    },
    "proof_on": NEW_MARKET,
    "proof_off": {**NEW_MARKET, **NO_SOCIAL_PROOF},
    "bass": {
        "firms": [{"name": "monopolist", "initial_share": 0.0, "advertising": 0.0}],
        "network.kind": "complete",
        "market.outside_option": False,
        "market.review_rate": 0.0,
        "market.warn_search": 0.0,
        "market.failure_search": 0.0,
        "market.initial_awareness": 1.0,
    },
}


@dataclass(frozen=True)
class Fact:
    """One calibration target: what is measured, the target range and its source."""

    name: str
    measure: str
    target: str
    low: float
    high: float
    source: str
    compute: Callable[[Runs], tuple[np.ndarray, float | None]]
    # (per-seed values, or None: a whole-sample statistic with its own interval)


class Tables(Protocol):
    """What a fact reads: the scenario, and a metric's table of a variant indexed by
    (replication, step) with one column per firm. :class:`Runs` gives every variant;
    a fit's simulations (``trustsim.calibrate``) give the ``scenario`` variant only."""

    scenario: Scenario

    def table(self, variant: str, metric: str) -> pd.DataFrame:
        """``metric`` of ``variant`` indexed by (replication, step), a column per firm."""
        ...


@dataclass
class Runs:
    """The finished runs of every variant, by variant and replication.

    Each variant's timeseries is read from disk once, and each fact measured
    once (the report and the figures share the values).
    """

    result: ExperimentResult
    scenario: Scenario
    _timeseries: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _measured: dict[str, tuple[np.ndarray, float | None]] = field(default_factory=dict, repr=False)
    _left_after_warning: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _premiums: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def _ids(self, variant: str) -> pd.DataFrame:
        runs = self.result.runs
        ids = runs.loc[runs["param.name"] == variant, ["run_id", "replication"]]
        return ids.sort_values("replication")

    def table(self, variant: str, metric: str) -> pd.DataFrame:
        """``metric`` indexed by (replication, step), one column per firm."""
        if variant not in self._timeseries:
            ids = self._ids(variant)
            ts = self.result.timeseries(run_ids=list(ids["run_id"]))
            self._timeseries[variant] = ts.merge(ids, on="run_id")
        ts = self._timeseries[variant]
        return ts.pivot_table(index=["replication", "step"], columns="firm", values=metric)

    def panels(self, variant: str) -> list[pd.DataFrame]:
        """The per-customer panels of a variant's runs, in replication order."""
        return [self.result.panel(str(r)) for r in self._ids(variant)["run_id"]]

    def measure(self, fact: Fact) -> tuple[np.ndarray, float | None]:
        """The fact's values (memoised)."""
        if fact.name not in self._measured:
            self._measured[fact.name] = fact.compute(self)
        return self._measured[fact.name]


def _sum_to(table: pd.DataFrame, last: int = HORIZON) -> pd.DataFrame:
    """Totals per replication over steps 1..last (step 0 is the initial state)."""
    steps = table.index.get_level_values("step")
    return table[(steps >= 1) & (steps <= last)].groupby(level="replication").sum()


def _at(table: pd.DataFrame, step: int = HORIZON) -> pd.DataFrame:
    return pd.DataFrame(table.xs(step, level="step"))


def wom_ratio(runs: Tables) -> tuple[np.ndarray, float | None]:
    """Positive : negative word-of-mouth messages in weeks 1-52, per seed."""
    positive = _sum_to(runs.table("scenario", "wom_positive")).sum(axis=1)
    negative = _sum_to(runs.table("scenario", "wom_negative")).sum(axis=1)
    return (positive / negative).to_numpy(), None


def listeners_ratio(runs: Tables) -> tuple[np.ndarray, float | None]:
    """Listeners per negative story over listeners per positive story, per seed."""

    def per_story(kind: str) -> pd.Series:
        told = _sum_to(runs.table("scenario", f"wom_{kind}")).sum(axis=1)
        stories = _sum_to(runs.table("scenario", f"stories_{kind}")).sum(axis=1)
        return told / stories

    return (per_story("negative") / per_story("positive")).to_numpy(), None


def left_within(panel: pd.DataFrame, event: pd.Series, firm: str, weeks: int) -> float:
    """Share of the customer-weeks flagged ``event`` at ``firm`` (in weeks that leave
    room for the whole window) after which the customer left ``firm`` within ``weeks``
    weeks, counting the event's own week."""
    last = int(panel["step"].max())
    at_firm = panel["provider"] == firm
    starts = panel.loc[event & at_firm & (panel["step"] >= 1) & (panel["step"] <= last - weeks + 1)]
    leaves = panel.loc[panel["left"] & at_firm, ["customer", "step"]]
    if starts.empty:
        return float("nan")
    by_customer = leaves.groupby("customer")["step"].apply(np.sort).to_dict()
    left = 0
    for customer, step in zip(starts["customer"], starts["step"], strict=True):
        steps = by_customer.get(customer)
        if steps is not None:
            nxt = np.searchsorted(steps, step)
            left += nxt < steps.size and steps[nxt] < step + weeks
    return left / len(starts)


def left_after_warning(runs: Runs) -> tuple[np.ndarray, np.ndarray]:
    """Per seed, the share who leave within 13 weeks: warned customers of the firm that
    always warns, and exploited-but-unaware customers of the one that never does (the
    treated and control groups of Ascarza et al.)."""
    if runs._left_after_warning is None:  # three facts share these two numbers
        warned, control = [], []
        for panel in runs.panels("warnings"):
            warned.append(left_within(panel, panel["warned"], "warns", SEARCH_WINDOW))
            unaware = panel["exploited"] & ~panel["discovered"]
            control.append(left_within(panel, unaware, "never_warns", SEARCH_WINDOW))
        runs._left_after_warning = (np.array(warned), np.array(control))
    return runs._left_after_warning


def warning_search(runs: Runs) -> tuple[np.ndarray, float | None]:
    """Share leaving within 13 weeks, warned over exploited-unaware, per seed."""
    warned, control = left_after_warning(runs)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(control > 0, warned / control, np.nan), None


def churn_control(runs: Runs) -> tuple[np.ndarray, float | None]:
    """Percent of exploited-unaware customers who leave within 13 weeks, per seed."""
    return 100 * left_after_warning(runs)[1], None


def churn_warned(runs: Runs) -> tuple[np.ndarray, float | None]:
    """Percent of warned customers who leave within 13 weeks, per seed."""
    return 100 * left_after_warning(runs)[0], None


def price_elasticity(runs: Runs) -> tuple[np.ndarray, float | None]:
    """Elasticity of the raising firm's share at week 52 for a 10% price rise."""
    base = _at(runs.table("price_equal", "share"))["raises"]
    raised = _at(runs.table("price_raised", "share"))["raises"]
    return ((raised - base) / base / PRICE_RISE).to_numpy(), None


def honest_firm(scenario: Scenario) -> str | None:
    """The first firm that promises no more than it delivers on average."""
    honest = [f.name for f in scenario.firms if f.promise <= f.quality]
    return honest[0] if honest else None


def honest_rating(runs: Tables) -> tuple[np.ndarray, float | None]:
    """The public rating at week 52 of the firm that promises what it delivers."""
    firm = honest_firm(runs.scenario)
    if firm is None:
        return np.array([np.nan]), None
    return _at(runs.table("scenario", "rating"))[firm].to_numpy(), None


def star_shares(runs: Tables) -> pd.Series:
    """Share of the honest firm's reviews (weeks 1-52, all seeds) with 1..5 stars."""
    firm = honest_firm(runs.scenario)
    counts = pd.Series(
        {k: _sum_to(runs.table("scenario", f"stars_{k}"))[firm].sum() for k in range(1, 6)}
        if firm
        else {k: 0.0 for k in range(1, 6)}
    )
    return counts / max(counts.sum(), 1.0)


def j_shape(runs: Tables) -> tuple[np.ndarray, float | None]:
    """1 if five stars are the most common and one star a second (local) mode, that is
    more common than two stars, else 0 (reviews pooled over seeds)."""
    shares = star_shares(runs)
    return np.array([float(shares.idxmax() == 5 and shares[1] > shares[2])]), None


def _nps_of(runs: Tables, pick: Callable[[pd.Series], str]) -> np.ndarray:
    reputation = _at(runs.table("scenario", "reputation"))
    nps = _at(runs.table("scenario", "nps"))
    return np.array([nps.loc[r, pick(reputation.loc[r])] for r in nps.index])


def nps_leader(runs: Tables) -> tuple[np.ndarray, float | None]:
    """NPS at week 52 of the firm most trusted by its customers."""
    return _nps_of(runs, lambda rep: str(rep.idxmax())), None


def nps_laggard(runs: Tables) -> tuple[np.ndarray, float | None]:
    """NPS at week 52 of the firm least trusted by its customers."""
    return _nps_of(runs, lambda rep: str(rep.idxmin())), None


def _final_shares(runs: Runs, variant: str) -> np.ndarray:
    return _at(runs.table(variant, "share")).to_numpy()  # (worlds, firms)


def unpredictability(shares: np.ndarray) -> float:
    """Salganik, Dodds & Watts (2006): mean over firms of the mean absolute
    difference of a firm's share between pairs of worlds."""
    worlds = shares.shape[0]
    if worlds < 2:
        return float("nan")
    i, j = np.triu_indices(worlds, k=1)
    return float(np.abs(shares[i] - shares[j]).mean())


def mean_gini(shares: np.ndarray) -> float:
    """The mean over worlds of the Gini of final shares."""
    return float(np.mean([gini(world) for world in shares]))


def _proof_ratio(runs: Runs, statistic: Callable[[np.ndarray], float]) -> tuple[np.ndarray, float]:
    """``statistic`` of the worlds with social proof over those without, with a bootstrap
    over paired worlds (same seeds) for its interval."""
    on, off = (_final_shares(runs, v) for v in ("proof_on", "proof_off"))
    rng = np.random.default_rng(0)  # the resampling, not the model: fixed for a stable report

    def ratio(worlds: np.ndarray | slice) -> float:
        below = statistic(off[worlds])
        return statistic(on[worlds]) / below if below > 0 else float("nan")

    boot = [ratio(rng.integers(0, len(on), len(on))) for _ in range(400)]
    return np.array(boot), ratio(slice(None))


def proof_gini(runs: Runs) -> tuple[np.ndarray, float | None]:
    """Mean Gini of final shares among identical firms, social proof on / off."""
    return _proof_ratio(runs, mean_gini)


def proof_unpredictability(runs: Runs) -> tuple[np.ndarray, float | None]:
    """Salganik's U of final shares among identical firms, social proof on / off."""
    return _proof_ratio(runs, unpredictability)


def switch_given_search(runs: Tables) -> tuple[np.ndarray, float | None]:
    """Of the customers with a provider who reconsider the market in weeks 1-52, the
    share who switch firm or leave, per seed (all firms pooled)."""
    moved = _sum_to(runs.table("scenario", "churns")).sum(axis=1)
    searched = _sum_to(runs.table("scenario", "searches")).sum(axis=1)
    return (moved / searched).to_numpy(), None


def premium_gaps(panel: pd.DataFrame, rating: pd.Series, scenario: Scenario) -> np.ndarray:
    """Per customer with a provider at the panel's last week, the utility gap between
    the most and the least trusted firm from trust and the public rating (ODD 7.5):
    ``beta_trust * (T_most - T_least) + beta_rating * (rating_most - rating_least)``.
    The most trusted firm is the one with the higher reputation among these customers."""
    last = panel[(panel["step"] == panel["step"].max()) & (panel["provider"] != "")]
    trust = last[[f"trust_{name}" for name in scenario.firm_names]].to_numpy()
    order = np.argsort(trust.mean(axis=0))
    most, least = order[-1], order[0]
    mk = scenario.market
    _, beta_rating, _ = rules.social_weights(
        mk.social_proof, mk.beta_proof, mk.beta_rating, mk.beta_popularity
    )
    names = scenario.firm_names
    rating_gap = float(rating[names[most]] - rating[names[least]])
    return mk.beta_trust * (trust[:, most] - trust[:, least]) + beta_rating * rating_gap


def behavioural_premium(gaps: np.ndarray, beta_price: float) -> float:
    """The price premium x (a fraction of price) at which customers with these utility
    gaps choose the most and the least trusted firm equally often in a two-firm logit:
    ``sum_i sigmoid(gap_i - beta_price * ln(1 + x)) = n / 2``. Unlike the parametric
    ``mean(gap) / beta_price`` it keeps the spread of trust gaps and the curvature of
    the logit and of log price."""

    def excess(x: float) -> float:
        return float(np.sum(special.expit(gaps - beta_price * np.log1p(x))) - gaps.size / 2)

    low, high = -0.99, 100.0
    if excess(low) * excess(high) > 0:
        return float("nan")
    return float(optimize.brentq(excess, low, high, xtol=1e-10))


def _premiums(runs: Runs) -> tuple[np.ndarray, np.ndarray]:
    """Per seed, the behavioural and the parametric trust premium in % of price."""
    if runs._premiums is None:
        rating = _at(runs.table("scenario", "rating"))
        beta_price = runs.scenario.market.beta_price
        behavioural, parametric = [], []
        for r, panel in enumerate(runs.panels("scenario")):
            gaps = premium_gaps(panel, rating.iloc[r], runs.scenario)
            behavioural.append(100 * behavioural_premium(gaps, beta_price))
            parametric.append(100 * float(gaps.mean()) / beta_price)
        runs._premiums = (np.array(behavioural), np.array(parametric))
    return runs._premiums


def trust_premium(runs: Runs) -> tuple[np.ndarray, float | None]:
    """The price premium (% of price) at which customers who reconsider at week 52
    would choose the most and the least trusted firm equally often, per seed."""
    return _premiums(runs)[0], None


def trust_premium_parametric(runs: Runs) -> tuple[np.ndarray, float | None]:
    """``(beta_trust * dT + beta_rating * dRating) / beta_price`` in % of price, with
    each customer's own trust gap at week 52 (averaged), per seed."""
    return _premiums(runs)[1], None


def bass_gap(runs: Runs) -> tuple[np.ndarray, float | None]:
    """Max over weeks of |mean adoption - Bass recursion|, in Monte Carlo standard errors
    (plus the 2/N a finite population adds)."""
    share = runs.table("bass", "share")["monopolist"].unstack("step")  # (replications, steps)
    sc = runs.scenario.with_overrides(VARIANTS["bass"])
    bass = [0.0]  # the monopolist does not advertise, so p is market.p_ad itself
    for _ in range(share.shape[1] - 1):
        bass.append(rules.bass_step(bass[-1], sc.market.p_ad, sc.market.q_wom))
    error = np.abs(share.mean(axis=0).to_numpy() - np.array(bass))
    se = share.std(axis=0, ddof=1).to_numpy() / np.sqrt(max(len(share), 1))
    slack = se + 1.0 / sc.population.size
    return np.array([float(np.max(error / slack))]), None


FACTS = (
    Fact("wom_ratio", "positive : negative WoM messages, weeks 1-52", "about 3", 2.0, 4.0,
         "East, Hammond & Wright 2007", wom_ratio),
    Fact("listeners", "listeners per negative story / per positive story", "about 2", 1.5, 2.5,
         "TARP (9-10 vs 4-5 listeners)", listeners_ratio),
    Fact("warning_search", "left provider within 13 weeks: warned / exploited unaware",
         "about 1.56", 1.2, 2.2, "Ascarza, Iyengar & Schleicher 2016 (one carrier)",
         warning_search),
    # The two levels behind that ratio; the +-25% tolerance is ours (one field experiment).
    Fact("churn_control", "% left provider within 13 weeks, exploited unaware (control)",
         "about 6.4", 4.8, 8.0, "Ascarza, Iyengar & Schleicher 2016 (one carrier)", churn_control),
    Fact("churn_warned", "% left provider within 13 weeks, warned", "about 10.0", 7.5, 12.5,
         "Ascarza, Iyengar & Schleicher 2016 (one carrier)", churn_warned),
    Fact("price_elasticity", "elasticity of market share at week 52, price +10%",
         "about -2.6", -4.0, -1.0,
         "Bijmolt, van Heerde & Pieters 2005 (mostly sales elasticities)", price_elasticity),
    Fact("trust_premium", "price premium (%) equalising the most and least trusted firm, "
         "week 52", "about 10", 5.0, 15.0, "Resnick et al. 2006; Gregg & Walczak 2010",
         trust_premium),
    Fact("trust_premium_parametric", "(beta_trust dT + beta_rating dRating) / beta_price (%), "
         "week 52", "about 10", 5.0, 15.0, "Resnick et al. 2006; Gregg & Walczak 2010",
         trust_premium_parametric),
    Fact("rating", "public rating of the honest firm at week 52", "3.8 to 4.4", 3.8, 4.4,
         "Schoenmueller, Netzer & Stahl 2020", honest_rating),
    Fact("j_shape", "5 stars the mode, 1 star a second mode (1 if so)", "1",
         1.0, 1.0, "Hu, Zhang & Pavlou 2009", j_shape),
    Fact("nps_leader", "NPS of the most trusted firm, week 52", "+20 to +70", 20.0, 70.0,
         "Reichheld 2003; industry benchmarks", nps_leader),
    Fact("nps_laggard", "NPS of the least trusted firm, week 52", "-40 to 0", -40.0, 0.0,
         "industry benchmarks (telecom about -7, lowest brands about -27)", nps_laggard),
    Fact("switch_given_search", "share of reconsidering customers who switch or leave, "
         "weeks 1-52", "0.15 to 0.45", 0.15, 0.45, "CMA 2015 (retail banking, about 0.19)",
         switch_given_search),
    Fact("proof_gini", "mean Gini of shares, social proof on / off (4 identical firms)",
         ">= 1.3", 1.3, np.inf, "Salganik, Dodds & Watts 2006", proof_gini),
    Fact("proof_unpredictability", "Salganik's U, social proof on / off", ">= 1.3", 1.3,
         np.inf, "Salganik, Dodds & Watts 2006", proof_unpredictability),
    Fact("bass_limit", "largest gap of mean adoption to Bass, in standard errors + 2/N", "< 4", 0.0,
         4.0, "Bass 1969", bass_gap),
)  # fmt: skip


FACT_VARIANTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "warning_search": (("warnings",), True),
    "churn_control": (("warnings",), True),
    "churn_warned": (("warnings",), True),
    "price_elasticity": (("price_equal", "price_raised"), False),
    "trust_premium": (("scenario",), True),
    "trust_premium_parametric": (("scenario",), True),
    "proof_gini": (("proof_on", "proof_off"), False),
    "proof_unpredictability": (("proof_on", "proof_off"), False),
    "bass_limit": (("bass",), False),
}
"""The variants of :data:`VARIANTS` each fact reads, and whether it needs the
per-customer panel; every other fact reads the ``scenario`` variant's tables only."""


def facts_experiment(
    scenario: Scenario, seeds: int, *, size: int | None = None, seed: int = 0
) -> Experiment:
    """Every variant of :data:`VARIANTS` on the same ``seeds`` replications."""
    base = scenario if size is None else scenario.with_overrides({"population.size": size})
    points = [{"name": name, **overrides} for name, overrides in VARIANTS.items()]
    return Experiment.model_validate(
        {
            "name": f"facts-{base.name}",
            "scenario": base.name,
            "steps": HORIZON,
            "replications": seeds,
            "seed": seed,
            "design": ListDesign(kind="list", points=points),
            "outputs": Outputs(panel_every=1),
            "base": base,
        }
    )


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and t-interval over seeds (NaNs dropped)."""
    x = values[np.isfinite(values)]
    if x.size == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(x.mean())
    if x.size < 2:
        return mean, np.nan, np.nan, int(x.size)
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half, int(x.size)


HOLDS, UNDECIDED, MISSES = "holds", "undecided", "misses"


def verdict(value: float, low: float, high: float, fact: Fact) -> str:
    """Whether a fact holds: its whole 95% interval inside the target (a value without an
    interval: the value itself). ``misses`` if the interval lies wholly outside, else
    ``undecided``: more seeds or customers are needed to tell."""
    if not np.isfinite(low):
        return HOLDS if fact.low <= value <= fact.high else MISSES
    if fact.low <= low and high <= fact.high:
        return HOLDS
    if high < fact.low or low > fact.high:
        return MISSES
    return UNDECIDED


def summarise(runs: Runs) -> pd.DataFrame:
    """One row per fact: measure, target, value with its 95% interval, and the verdict."""
    rows = []
    for fact in FACTS:
        values, point = runs.measure(fact)
        if point is None:
            mean, low, high, n = interval(values)
        else:  # a bootstrap distribution around a whole-sample statistic
            mean, n = point, len(values)
            low, high = (float(q) for q in np.nanpercentile(values, [2.5, 97.5]))
        rows.append(
            {
                "fact": fact.name,
                "measure": fact.measure,
                "target": fact.target,
                "target_low": fact.low,
                "target_high": fact.high,
                "value": mean,
                "ci_low": low,
                "ci_high": high,
                "n": n,
                "verdict": (said := verdict(mean, low, high, fact)),
                "holds": said == HOLDS,
                "source": fact.source,
            }
        )
    return pd.DataFrame(rows)


def measure_facts(
    scenario: Scenario,
    *,
    seeds: int = 16,
    size: int | None = None,
    out: str | Path | None = None,
    executor: Executor | None = None,
    on_result: OnResult | None = None,
) -> tuple[pd.DataFrame, Runs]:
    """Run the fact variants of a scenario and measure every calibration target (ODD 8.4).

    Parameters
    ----------
    scenario : Scenario
        The scenario whose facts are measured; each fact runs in its own
        variant of it (two identical firms, a price rise, one firm on a
        complete network, ...).
    seeds : int
        Replications per variant; the intervals are over these seeds.
    size : int, optional
        Customers per run (default: the scenario's).
    out : str or Path, optional
        Where the runs are kept, so an interrupted measurement resumes.
    executor : Executor, optional
        Where runs execute (default: one process per core).
    on_result : callable, optional
        Called as ``on_result(record, done, total)`` after each run.

    Returns
    -------
    (pandas.DataFrame, Runs)
        One row per fact (measure, target, value, 95% interval, verdict, holds) and
        the runs the values came from.
    """
    from trustsim.experiment.runner import run_experiment

    experiment = facts_experiment(scenario, seeds, size=size)
    result = run_experiment(experiment, out=out, executor=executor, on_result=on_result)
    failed = result.runs[result.runs["status"] != OK]
    if not failed.empty:
        raise RuntimeError(f"{len(failed)} fact runs failed, e.g. {failed['error'].iloc[0]}")
    runs = Runs(result, experiment.base)
    return summarise(runs), runs


def report(table: pd.DataFrame, scenario: Scenario, seeds: int) -> str:
    """The facts table in Markdown, with a sentence on what did not hold."""
    n = scenario.population.size
    lines = [
        f"# Calibration facts: {scenario.name}",
        "",
        f"{seeds} seeds, N = {n:,}, {HORIZON} weeks; 95% intervals over seeds "
        "(Salganik's U: bootstrap over worlds).",
        "",
        "| fact | measure | target | simulated [95% CI] | verdict |",
        "|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        low, high = float(row.ci_low), float(row.ci_high)  # type: ignore[arg-type]
        ci = "" if not np.isfinite(low) else f" [{low:.3g}, {high:.3g}]"
        lines.append(
            f"| {row.fact} | {row.measure} | {row.target} | {row.value:.3g}{ci} | "
            f"{str(row.verdict) if row.holds else f'**{row.verdict!s}**'} |"
        )
    missed = table.loc[~table["holds"], "fact"].tolist()
    lines += [
        "",
        "Every fact holds: each 95% interval lies inside its target."
        if not missed
        else f"Not shown to hold (interval not inside the target): {', '.join(missed)}.",
        "",
        "Sources: "
        + "; ".join(sorted({s for src in table["source"] for s in src.split("; ")}))
        + ".",
    ]
    return "\n".join(lines) + "\n"
