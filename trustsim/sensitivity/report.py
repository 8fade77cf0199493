"""The sensitivity report in words: what matters most, and how far to trust it."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trustsim.experiment.spec import Experiment
from trustsim.sensitivity.analysis import main_index
from trustsim.sensitivity.convergence import convergence_in_words
from trustsim.sensitivity.noise import DUMMY
from trustsim.sensitivity.outputs import CONDITIONAL_MIN_RUNS, HAPPENS, WEEK_IF, analysis_of

NOISE_WARNING = 0.2  # share of variance from the seed x parameter interaction worth a warning


def report(indices: pd.DataFrame, experiment: Experiment, censored: Mapping[str, float]) -> str:
    """A short markdown report that ranks the factors of each output in words."""
    method = experiment.design.kind
    key = main_index(method)
    methods = indices["method"].to_numpy() if "method" in indices else np.full(len(indices), method)
    conditional = indices[methods == "pawn"] if method != "pawn" else indices[:0]
    scores = indices[methods == "feature_scoring"]
    indices = indices[methods == method]
    n = int(indices["n"].max())
    final = indices[(indices["n"] == n) & (indices["index"] == key)]
    level = 100 * analysis_of(experiment).conf_level
    lines = [
        f"# Sensitivity analysis: {experiment.name}",
        "",
        f"Method: {method}, base sample n = {n}, {experiment.replications} replication(s) "
        f"per point {crn_in_words(experiment)}; ranking by `{key}` with {level:g}% intervals "
        f"{intervals_in_words(experiment.replications, method)}.",
        "",
        dummy_in_words(experiment.replications, method),
        "",
    ]
    for output, table in final.groupby("output", sort=False):
        dummy = table[table["factor"] == DUMMY]
        table = table[table["factor"] != DUMMY].sort_values("value", ascending=False)
        top = table.iloc[0]
        lines.append(f"## {output}")
        lines.append("")
        if not np.isfinite(top.value):
            lines += ["This output is the same in every run, so no parameter moves it.", ""]
            continue
        ranked = [
            f"`{factor}` ({key} = {value:.3f}" + (f" ± {conf:.3f})" if pd.notna(conf) else ")")
            for factor, value, conf in zip(
                table["factor"], table["value"], table["conf"], strict=True
            )
        ]
        clear = table[~table["flag"].astype(bool)]
        if len(clear):
            lines.append(f"`{clear.iloc[0].factor}` matters most. In order: {', '.join(ranked)}.")
        else:
            lines.append(
                f"No factor is clearly influential at this sample size. In order: "
                f"{', '.join(ranked)}."
            )
        lines += not_influential(table, dummy, key)
        lines += small_sample_warnings(table, key, n)
        lines += first_above_total(indices[indices["n"] == n], str(output))
        lines += additivity(indices[indices["n"] == n], str(output))
        noise = float(table["noise_share"].iloc[0])
        if np.isfinite(noise):
            lines.append(noise_in_words(table))
        else:
            lines.append(
                "Replication noise was not measured (one replication per point): "
                "add replications to know how much of the variance is chance."
            )
        lines.append(convergence_in_words(indices, str(output), key))
        lines += scores_in_words(scores[scores["output"] == output], table, key)
        if censored.get(str(output), 0) > 0:  # left as a number: PAWN takes the spike
            lines.append(
                f"In {100 * censored[str(output)]:.0f}% of runs the overtaking never "
                f"happened; those runs count as week {experiment.horizon + 1} "
                f"(censored at the horizon)."
            )
        for name, share in censored.items():
            if str(output) == HAPPENS.format(name):
                lines += censored_in_words(name, share, conditional, experiment.horizon)
        lines.append("")
    return "\n".join(lines)


def scores_in_words(scores: pd.DataFrame, table: pd.DataFrame, key: str) -> list[str]:
    """EMA's feature scores beside the main index: the ranking and whether the top
    factor agrees."""
    if scores.empty:
        return []
    ranked = scores.sort_values("value", ascending=False)
    listed = ", ".join(
        f"`{f}` ({v:.2f})" for f, v in zip(ranked["factor"], ranked["value"], strict=True)
    )
    top = str(ranked["factor"].iloc[0])
    agree = (
        f"its top factor agrees with {key}'s"
        if top == str(table["factor"].iloc[0])
        else f"**its top factor differs from {key}'s**: look at both before leaning on either"
    )
    return [f"Cross-check, EMA Workbench's extra-trees feature scores: {listed}; {agree}."]


def crn_in_words(experiment: Experiment) -> str:
    """How the replications' seeds relate across design points."""
    if experiment.replications < 2:
        return "(one seed each)"
    if experiment.common_random_numbers:
        return "with common random numbers (replication r has the same seed at every point)"
    return "with independent seeds at every point (common random numbers off)"


def intervals_in_words(replications: int, method: str) -> str:
    """What the intervals resample."""
    if replications < 2:
        what = "design points" if method != "morris" else "trajectories"
        return f"from resampling {what} (one replication: replication noise not measured)"
    return (
        "from resampling design points and replications together (Owen's pigeonhole "
        "bootstrap), so they include replication noise"
    )


def dummy_in_words(replications: int, method: str) -> str:
    """What the dummy factor is, or why there is none."""
    if method == "pawn":
        return (
            f"A factor counts as influential only where its interval lies above that of "
            f"`{DUMMY}`, an extra uniform column no output depends on (Khorashadi Zadeh et al. "
            f"2017): what PAWN gives a factor with no effect at this sample size."
        )
    if replications < 2:
        return (
            "No dummy factor: with one replication there is no noise floor to measure, and "
            "under common random numbers a factor with no effect gets exactly zero."
        )
    return (
        f"A factor counts as influential only where its interval lies above that of "
        f"`{DUMMY}`, a factor whose only effect is to re-draw the random numbers (Khorashadi "
        f"Zadeh et al. 2017, computed from the replications, since under common random "
        f"numbers a design column the model ignores gets exactly zero). In an agent-based "
        f"model any change of a parameter can re-route the random path, so a factor not above "
        f"the dummy may be doing nothing more than that."
    )


def not_influential(table: pd.DataFrame, dummy: pd.DataFrame, key: str) -> list[str]:
    """The dummy's own index, and the factors that are not influential."""
    reference = dummy[dummy["index"] == key]
    lines = []
    if len(reference):
        d = reference.iloc[0]
        lines.append(f"The dummy's {key} is {d.value:.3f} ± {d.conf:.3f}.")
    weak = [f"`{r.factor}`" for r in table.itertuples() if r.flag]
    if weak:
        why = (
            "negative, interval includes zero, or not above the dummy's"
            if len(reference)
            else ("negative, or interval includes zero")
        )
        lines.append(f"Not influential ({why}): {', '.join(weak)}.")
    return lines


def additivity(final: pd.DataFrame, output: str) -> list[str]:
    """The sum of the first-order indices, and the share of variance left to interactions."""
    s1 = final[(final["output"] == output) & (final["index"] == "S1") & (final["factor"] != DUMMY)]
    if s1.empty or not np.isfinite(s1["value"]).all():
        return []
    total = float(s1["value"].sum())
    if total > 1:
        return [
            f"The first-order indices add up to {total:.2f}, above 1, which only estimation "
            f"error allows: read them as roughly additive, with nothing left to interactions."
        ]
    return [
        f"The first-order indices add up to {total:.2f}: about {1 - total:.0%} of the "
        f"variance comes from interactions between factors (and noise)."
    ]


def censored_in_words(
    name: str, share: float, conditional: pd.DataFrame, horizon: int
) -> list[str]:
    """How a censored output was analysed: the probability that it happens (this
    section's indices), and its week among the runs where it does (PAWN)."""
    lines = [
        f"`{name}` never happened in {100 * share:.0f}% of runs, so its week is censored "
        f"and is not analysed as a number: this output is 1 where it happens by week "
        f"{horizon} and 0 where not, and its replication mean is the probability that it "
        f"happens."
    ]
    rows = conditional[(conditional["output"] == WEEK_IF.format(name))
                       & (conditional["index"] == "pawn_median")]  # fmt: skip
    if rows.empty:
        lines.append(
            f"Too few runs overtook (fewer than {CONDITIONAL_MIN_RUNS}) to analyse the week "
            f"among them."
        )
        return lines
    ranked = rows[rows["factor"] != DUMMY].sort_values("value", ascending=False)
    listed = ", ".join(
        f"`{f}` ({v:.3f} ± {c:.3f})"
        for f, v, c in zip(ranked["factor"], ranked["value"], ranked["conf"], strict=True)
    )
    floor = rows[rows["factor"] == DUMMY]
    clear = ranked.loc[ranked["flag"] == "", "factor"]
    above = (
        f"; above it: {', '.join(f'`{f}`' for f in clear)}."
        if len(clear)
        else ("; no factor is above it.")
    )
    lines.append(
        f"Among the {int(rows['runs'].iloc[0]):,} runs where it happens, the week depends on, by "
        f"PAWN median (Pianosi & Wagener 2015; PAWN compares distributions, so it needs no "
        f"value where the event never came, as Sobol and Morris would): {listed}"
        + (
            f"; the dummy column gets {floor['value'].iloc[0]:.3f} ± {floor['conf'].iloc[0]:.3f}"
            if len(floor)
            else ""
        )
        + above
    )
    return lines


def noise_in_words(table: pd.DataFrame) -> str:
    """The replication noise in two parts, warning on the one that biases the indices."""
    seed = float(table["seed_share"].iloc[0])
    interaction = float(table["interaction_share"].iloc[0])
    verdict = (
        "**Warning: the interaction is large against the parameter effects**; add "
        "replications or treat small indices as noise"
        if interaction > NOISE_WARNING
        else "small against the parameter effects"
    )
    return (
        f"Replication noise is {100 * (seed + interaction):.0f}% of this output's variance: "
        f"{100 * seed:.0f}% is the seed's main effect, which common random numbers cancel "
        f"from the indices, and {100 * interaction:.0f}% its interaction with the "
        f"parameters, which moves them: {verdict}."
    )


def first_above_total(final: pd.DataFrame, output: str) -> list[str]:
    """Flag factors whose first-order index exceeds their total index beyond both
    intervals: impossible in the limit, so a sign that the estimates are unreliable."""
    rows = final[final["output"] == output]
    s1 = rows[rows["index"] == "S1"].set_index("factor")
    st = rows[rows["index"] == "ST"].set_index("factor")
    if s1.empty or st.empty:
        return []
    both = s1.add_suffix("_s1").join(st.add_suffix("_st"), how="inner")
    beyond = both[both["value_s1"] - both["conf_s1"] > both["value_st"] + both["conf_st"]]
    if beyond.empty:
        return []
    names = ", ".join(f"`{f}`" for f in beyond.index)
    return [
        f"**Warning: S1 exceeds ST beyond their intervals for {names}**, which is impossible "
        f"in the limit: those estimates are unreliable at this sample size; raise `design.n`."
    ]


def small_sample_warnings(table: pd.DataFrame, key: str, n: int) -> list[str]:
    """Say when the base sample is too small to separate the indices."""
    problems = []
    if key == "ST" and (table["value"] > 1).any():
        problems.append("total-order indices above 1, which is impossible in the limit")
    wide = table.loc[table["conf"] > table["value"].abs(), "factor"].tolist()
    if wide:
        problems.append(
            f"the interval is wider than the index itself for {', '.join(f'`{f}`' for f in wide)}"
        )
    if not problems:
        return []
    return [
        f"**Warning: n = {n} is too small to separate the factors** "
        f"({'; '.join(problems)}); raise `design.n`."
    ]
