"""The policy study's figures and its report in words (Markdown and self-contained HTML).

Every number in the report is read from the tables the study wrote
(``contrasts``, ``breakeven``, ``rules``, ``firm_gaps``), so each traces to a row.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trustsim.io import write_bytes, write_text
from trustsim.policy import PolicyResult, analysis, final_gain
from trustsim.policy.spec import BASE_SCENARIO

# --------------------------------------------------------------------------- figures


def contrast_figure(result: PolicyResult) -> Figure:
    """Paired difference over time, with its 95% band, per outcome, in the base market."""
    metrics = result.study.outcomes
    cols = min(3, len(metrics))
    rows = int(np.ceil(len(metrics) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    c = result.contrasts
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for policy in result.study.others:
            firm = result.policy_firm(policy)
            rows_ = c[(c.policy == policy) & (c.scenario == BASE_SCENARIO) & (c.firm == firm)
                      & (c.metric == metric)].sort_values("step")  # fmt: skip
            line = ax.plot(rows_["step"], rows_["mean"], label=f"{policy} ({firm})")[0]
            ax.fill_between(rows_["step"], rows_["ci_low"], rows_["ci_high"],
                            color=line.get_color(), alpha=0.2, linewidth=0)  # fmt: skip
        ax.axhline(0, color="grey", linewidth=0.8)
        for week in event_weeks(result):
            ax.axvline(week, color="0.35", linestyle=":", linewidth=1.2)
        ax.set_title(metric.replace("_", " "))
        ax.set_xlabel("week")
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    axes.flat[0].set_ylabel(f"minus {result.study.baseline_policy}")
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=min(4, len(result.study.others)))  # fmt: skip
    weeks = event_weeks(result)
    marked = f"; dotted: events in week {', '.join(map(str, weeks))}" if weeks else ""
    fig.suptitle(
        f"Policy minus baseline in the base market (mean and 95% band over paired runs{marked})"
    )
    return fig


def event_weeks(result: PolicyResult) -> list[int]:
    """The weeks at which some policy's timeline has an event (ODD 8a), once each."""
    study = result.study
    return sorted({int(e["week"]) for p in study.policies for e in study.timeline(p)})


def breakeven_figure(result: PolicyResult) -> Figure:
    """Distribution over market scenarios of the NPV break-even week, per policy."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    b = result.breakeven
    horizon = result.study.horizon
    bins = list(np.linspace(0, horizon, min(27, horizon + 1)))
    for policy in result.study.others:
        rows = b[
            (b.policy == policy) & (b.firm == result.policy_firm(policy)) & (b.metric == "npv")
        ]
        never = int(rows["week"].isna().sum())
        ax.hist(rows["week"].dropna(), bins=bins, histtype="step", linewidth=2,
                label=f"{policy}: never in {never} of {len(rows)}")  # fmt: skip
    ax.set_xlabel("week from which the policy's NPV stays ahead")
    ax.set_ylabel("market scenarios")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Break-even week over market scenarios")
    ax.legend()
    return fig


def regime_figure(result: PolicyResult, policy: str) -> Figure | None:
    """Pays / does not pay over the two conditions that go most with the NPV gain."""
    table = _final_npv(result, policy)
    conditions = table.drop(columns="gain").select_dtypes("number")
    if conditions.shape[1] < 2 or len(table) < 4:
        return None
    strength = conditions.corrwith(table["gain"], method="spearman").abs().fillna(0)
    x, y = strength.sort_values(ascending=False).index[:2]
    fig, ax = plt.subplots(figsize=(7, 5), constrained_layout=True)
    pays = table["gain"] > 0
    ax.scatter(table.loc[pays, x], table.loc[pays, y], marker="o", label="pays")
    ax.scatter(table.loc[~pays, x], table.loc[~pays, y], marker="x", label="does not pay")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{policy}: NPV gain at week {result.study.horizon}, by market")
    fig.legend(loc="outside lower center", ncols=2)
    return fig


def _final_npv(result: PolicyResult, policy: str) -> pd.DataFrame:
    gain = final_gain(result.study, result.contrasts, policy)
    return result.scenarios.set_index("scenario").assign(gain=gain)


def slug(name: str) -> str:
    """A policy name as a file name: ``warn tenured`` -> ``warn_tenured``."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def figures(result: PolicyResult) -> dict[str, Figure]:
    """Every figure of the report, by file name."""
    out = {"contrasts": contrast_figure(result)}
    if (
        len(result.scenarios) > 1
        and result.study.scenarios is not None
        and (
            result.study.scenarios.kind != "list"  # named markets: the tables say it better
        )
    ):
        out["breakeven"] = breakeven_figure(result)
        for policy in result.study.others:
            fig = regime_figure(result, policy)
            if fig is not None:
                out[f"regime_{slug(policy)}"] = fig
    return out


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Block:
    """One piece of the report: a heading, a paragraph, a table or a figure."""

    kind: str  # "h1", "h2", "p", "table" or "figure"
    text: str = ""
    table: pd.DataFrame | None = None


def headline(result: PolicyResult, policy: str) -> str:
    """The sentence a strategist forwards, every number from a table."""
    study, c, b = result.study, result.contrasts, result.breakeven
    firm, horizon = result.policy_firm(policy), study.horizon
    row = c[(c.policy == policy) & (c.scenario == BASE_SCENARIO) & (c.firm == firm)
            & (c.metric == "npv") & (c.step == horizon)].iloc[0]  # fmt: skip
    verb = "raises" if row["mean"] > 0 else "lowers"
    text = (
        f"{policy} ({_levers(study.policies[policy])}, against {study.baseline_policy}) {verb} "
        f"{firm}'s NPV at week {horizon}: {row['mean']:+,.0f} "
        f"[95% CI {row['ci_low']:+,.0f} to {row['ci_high']:+,.0f}, n = {int(row['n'])}] "
        f"in the base market"
    )
    if row["ci_low"] <= 0 <= row["ci_high"]:
        text += " (the interval includes 0)"
    weeks = b[(b.policy == policy) & (b.firm == firm) & (b.metric == "npv")]
    base_week = weeks.loc[weeks.scenario == BASE_SCENARIO, "week"].iloc[0]
    text += (
        f", breaking even in week {base_week:.0f} there." if np.isfinite(base_week)
        else f", and does not break even there by week {horizon}."
    )  # fmt: skip
    if len(weeks) > 1:
        final = c[(c.policy == policy) & (c.firm == firm) & (c.metric == "npv")
                  & (c.step == horizon)].set_index("scenario")  # fmt: skip
        counts = analysis.verdicts(final).value_counts()
        share, median = analysis.breakeven_summary(weeks["week"])
        text += (
            f" Over the {len(final)} markets tried (a market counts only where the paired 95% "
            f"interval at week {horizon} excludes 0), it pays in {counts.get(analysis.PAYS, 0)}, "
            f"loses in {counts.get(analysis.LOSES, 0)} and is inconclusive in "
            f"{counts.get(analysis.INCONCLUSIVE, 0)}. "
            + (
                f"It breaks even within the horizon in {share:.0%} of them, in week "
                f"{median:.0f} in the median such market."
                if np.isfinite(median)
                else "It breaks even within the horizon in none of them."
            )
        )
        text += posterior_sentence(result, policy)
        switched = _switch_markets(result, policy)
        if switched:
            text += " " + switched
        losing = result.rules[(result.rules.policy == policy)
                              & (result.rules.outcome == "does not pay")]  # fmt: skip
        if len(losing):
            best = losing[losing.box == losing.iloc[0]["box"]]
            text += (
                f" It does not pay when {analysis.describe_box(best)} "
                f"(coverage {best.iloc[0]['coverage']:.0%}, density {best.iloc[0]['density']:.0%})."
            )
    return text


def posterior_sentence(result: PolicyResult, policy: str) -> str:
    """Where the markets are drawn from a fit's posterior: the posterior probability that
    the policy pays, its expected gain with a 90% credible interval, and when it breaks
    even (from the per-market mean NPV gains at the horizon and the break-even weeks)."""
    design = result.study.scenarios
    if design is None or design.kind != "posterior":
        return ""
    gain = final_gain(result.study, result.contrasts, policy).drop(BASE_SCENARIO)
    b = result.breakeven
    weeks = b[(b.policy == policy) & (b.firm == result.policy_firm(policy))
              & (b.metric == "npv") & (b.scenario != BASE_SCENARIO)]["week"]  # fmt: skip
    share, median = analysis.breakeven_summary(weeks)
    low, high = np.quantile(gain, [0.05, 0.95])
    when = f", in week {median:.0f} in the median such market" if np.isfinite(median) else ""
    fit = _shown(Path(getattr(design, "source", "")))
    return (
        f" Over {len(gain)} markets drawn from the posterior of the fit in {fit}: the "
        f"posterior probability that it pays (a mean NPV gain at week {result.study.horizon} "
        f"above 0) is {(gain > 0).mean():.0%}; its "
        f"expected gain is {gain.mean():+,.0f} [90% credible interval {low:+,.0f} to "
        f"{high:+,.0f}]; it breaks even within the horizon with probability {share:.0%}{when}."
    )


def _shown(folder: Path) -> str:
    """A folder as the reader can find it: relative to the working directory if inside."""
    try:
        return str(folder.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(folder)


def switch_sentence(result: PolicyResult, policy: str) -> str:
    """A timeline policy's switch in words, in the base market: what it costs while
    under way and when it has paid for itself (every number from ``switches``)."""
    s = result.switches
    if s.empty or policy not in set(s["policy"]):
        return ""
    row = s[(s.policy == policy) & (s.scenario == BASE_SCENARIO)].iloc[0]
    week, firm = int(row["switch_week"]), row["firm"]
    if row["cost"] > 0:
        cost = (
            f"While it is under way the switch costs {firm} up to {row['cost']:,.0f} of "
            f"cumulative profit against {result.study.baseline_policy} [95% CI "
            f"{row['cost_low']:,.0f} to {row['cost_high']:,.0f}], deepest in week "
            f"{int(row['deepest_week'])}"
        )
    else:
        cost = f"The switch costs {firm} nothing while under way: it is ahead from the start"
    paid = (
        f"it has paid for itself (its cumulative profit ahead of {result.study.baseline_policy} "
        f"for good) from week {row['payback_week']:.0f}, "
        f"{_weeks_after(row['weeks_to_pay_back'])}."
        if np.isfinite(row["payback_week"])
        else f"it has not paid for itself by week {result.study.horizon}."
    )
    return f"The switch happens in week {week}. {cost}; {paid}"


def _switch_markets(result: PolicyResult, policy: str) -> str:
    s = result.switches
    if s.empty or policy not in set(s["policy"]) or len(result.scenarios) < 2:
        return ""
    rows = s[s.policy == policy]
    share, median = analysis.breakeven_summary(rows["weeks_to_pay_back"])
    if not np.isfinite(median):
        return "Over the markets tried, the switch pays for itself by the horizon in none."
    return (
        f"Over the markets tried, the switch pays for itself (cumulative profit) by the "
        f"horizon in {share:.0%}, {_weeks_after(median)} in the median such market."
    )


def _weeks_after(weeks: float) -> str:
    return "at once" if weeks == 0 else f"{weeks:.0f} weeks after the switch"


EVENT_KEYS = ["policy", "scenario", "week", "kind", "firm"]


def market_words(result: PolicyResult, scenario: str) -> str:
    """A scenario in words: ``the base market``, or ``s001 (firms.trust_first.warn_rate =
    0)`` with the conditions in which it differs from the base market."""
    if scenario == BASE_SCENARIO:
        return "the base market"
    table = result.scenarios.set_index("scenario")
    row, base = table.loc[scenario].to_dict(), table.loc[BASE_SCENARIO].to_dict()
    changed = [f"{k} = {v:.3g}" if isinstance(v, float) else f"{k} = {v}"
               for k, v in row.items() if v != base[k]]  # fmt: skip
    return f"{scenario} ({', '.join(changed)})" if changed else scenario


def recovery_blocks(result: PolicyResult) -> list[Block]:
    """Weeks to recover from each harmful event, and how deep the paired harm goes and
    when it has halved, per policy and market."""
    r = result.recovery
    if r.empty:
        return []
    from trustsim import recovery

    horizon = result.study.horizon
    lines = []
    for (policy, scenario, week, kind, firm), rows in r.groupby(EVENT_KEYS, sort=False):
        said = "; ".join(recovery.describe(row, horizon) for _, row in rows.iterrows())
        what = str(kind).replace("_", " ")
        where = market_words(result, str(scenario))
        lines.append(f"{policy}, in {where}: after the {what} at {firm} in week {week}, {said}.")
    table = pd.DataFrame({
        "policy": r["policy"], "market": r["scenario"],
        "event": [f"{k} at {f}, week {w}" for k, f, w in
                  zip(r["kind"], r["firm"], r["week"], strict=True)],
        "measure": r["measure"], "recovered": [f"{a} of {b}" for a, b in
                                               zip(r["recovered"], r["runs"], strict=True)],
        "median weeks": r["median_weeks"].map(lambda x: "not by the horizon" if np.isnan(x)
                                                else f"{x:.0f}"),
        "95% CI": [_week_interval(lo, hi)
                   for lo, hi in zip(r["ci_low"], r["ci_high"], strict=True)],
    })  # fmt: skip
    return [
        Block("h2", "Recovery after events"),
        Block("p", (
            "Weeks after each event until the firm's reputation, market share and NPS are back "
            "at their level of the week before (each read as a trailing 4-week mean after the "
            "event; 0: the event did not push it down). Runs not back by the horizon are "
            "censored: the median is the Kaplan-Meier median over the replications. A firm "
            "whose measure was falling anyway may never be back at its old level; the next "
            "section measures the harm against the same firm without the event instead."
        )),
        *[Block("p", line) for line in lines],
        Block("table", table=table),
        *harm_blocks(result),
    ]  # fmt: skip


def harm_blocks(result: PolicyResult) -> list[Block]:
    """The paired harm of each policy's own harmful event: deepest, and when halved."""
    h = result.harm
    if h.empty:
        return []
    table = pd.DataFrame({
        "policy": h["policy"], "market": h["scenario"], "firm": h["firm"],
        "measure": h["metric"], "event week": h["event_week"],
        "deepest harm": [f"{m:+.3g} [{lo:+.3g} to {hi:+.3g}]" for m, lo, hi in
                         zip(h["deepest"], h["deepest_low"], h["deepest_high"], strict=True)],
        "deepest in week": h["deepest_week"],
        "halved after (weeks)": h["weeks_to_halve"].map(
            lambda w: "not by the horizon" if np.isnan(w) else f"{w:.0f}"),
    })  # fmt: skip
    return [
        Block("h2", "How deep the harm goes, and when it has halved (paired)"),
        Block("p", (
            f"Each measure of the firm hit, minus the same firm in the same market under "
            f"{result.study.baseline_policy!r} (the same random streams, so identical before "
            f"the event): the deepest mean difference after the event with its 95% interval, "
            f"and the weeks until the mean difference is back above half of that depth."
        )),
        Block("table", table=table),
    ]  # fmt: skip


def _week_interval(low: float, high: float) -> str:
    if np.isnan(low) and np.isnan(high):
        return "n/a"
    lo = "?" if np.isnan(low) else f"{low:.0f}"
    hi = "beyond the horizon" if not np.isfinite(high) else f"{high:.0f}"
    return f"{lo} to {hi}"


def switch_blocks(result: PolicyResult) -> list[Block]:
    """The timeline policies' switches: cost while under way and payback, base market."""
    s = result.switches
    if s.empty:
        return []
    base = s[s.scenario == BASE_SCENARIO]
    table = pd.DataFrame({
        "policy": base["policy"], "firm": base["firm"], "switch week": base["switch_week"],
        "deepest cost": base["cost"].map("{:,.0f}".format),
        "95% CI": [f"{lo:,.0f} to {hi:,.0f}" for lo, hi in
                   zip(base["cost_low"], base["cost_high"], strict=True)],
        "deepest in week": base["deepest_week"],
        "paid back from week": base["payback_week"].map(lambda w: "not by the horizon"
                                                          if np.isnan(w) else f"{w:.0f}"),
        "weeks after the switch": base["weeks_to_pay_back"].map(lambda w: "-" if np.isnan(w)
                                                                 else f"{w:.0f}"),
        "NPV at the horizon": [f"{m:+,.0f} [{lo:+,.0f} to {hi:+,.0f}]" for m, lo, hi in
                               zip(base["npv"], base["npv_low"], base["npv_high"], strict=True)],
    })  # fmt: skip
    return [
        Block("h2", "The switch: what it costs and when it pays back (base market)"),
        Block("p", (
            "Cumulative profit of the switching firm minus the same firm never switching, on "
            "the same random streams. Before the switch the paired runs are identical. The "
            "deepest cost is the lowest mean contrast after the switch; it has paid back from "
            "the week the mean contrast stays above 0 to the horizon."
        )),
        *[Block("p", switch_sentence(result, p)) for p in base["policy"]],
        Block("table", table=table),
    ]  # fmt: skip


def who_wins(result: PolicyResult) -> str:
    """Under which policies each acted-on firm has the highest NPV in the base market."""
    study, g = result.study, result.firm_gaps
    g = g[g.scenario == BASE_SCENARIO]
    sentences = []
    for firm in dict.fromkeys(result.policy_firm(p) for p in study.others):
        rows = g[g.firm == firm].set_index("policy").reindex(list(study.policies))
        ahead = [str(p) for p in rows.index[rows["ci_low"] > 0]]
        behind = [str(p) for p in rows.index[rows["ci_high"] < 0]]
        unclear = [p for p in study.policies if p not in ahead + behind]
        parts = [f"under {_names(ahead)}" if ahead else "under no policy"]
        parts += [f"not under {_names(behind)}"] * bool(behind)
        parts += [f"too close to call under {_names(unclear)}"] * bool(unclear)
        sentences.append(
            f"{firm} has the highest NPV at week {study.horizon} in the base market "
            + "; ".join(parts)
            + "."
        )
    return " ".join(sentences)


def _names(policies: list[str]) -> str:
    return ", ".join(policies)


def _levers(levers: dict[str, object]) -> str:
    parts = [f"{k} = {v}" for k, v in levers.items() if k != "events"]
    for event in cast(list[dict[str, object]], levers.get("events", [])):
        parts.append(event_words(event))
    return ", ".join(parts) or "the scenario's own settings"


def event_words(event: dict[str, object]) -> str:
    """An event as written in a file, in words: ``short_term adopts trust_first in week
    52``, ``a breach at short_term in week 52``."""
    kind, firm, week = event["kind"], event.get("firm"), event["week"]
    if kind == "strategy":
        return f"{firm} adopts {event['preset']} in week {week}"
    if kind == "set":
        return f"{event['key']} = {event['value']} from week {week}"
    if kind == "viral_review":
        return f"a {event.get('tone', 'bad')} viral story about {firm} in week {week}"
    if kind == "enter":
        return f"a new firm enters in week {week}"
    return f"{'a' if kind == 'breach' else 'an'} {kind} at {firm} in week {week}"


def blocks(result: PolicyResult, figure_names: list[str]) -> list[Block]:
    """The report as blocks, rendered to Markdown and to HTML alike."""
    study = result.study
    out = [
        Block("h1", f"Policy study: {study.name}"),
        Block("p", (
            f"{len(study.policies)} policies x {len(result.scenarios)} market scenarios x "
            f"{study.replications} paired replications, {study.horizon} weeks, "
            f"{study.base.population.size:,} customers. Each policy is compared with "
            f"{study.baseline_policy!r} on the same random streams per scenario and "
            f"replication; intervals are 95% t-intervals of the paired differences."
        )),
        Block("h2", "Findings"),
        *[Block("p", headline(result, p)) for p in study.others],
        Block("h2", "Who wins the market under each policy (base market)"),
        Block("p", who_wins(result) + " The table gives each firm's NPV at the horizon "
              "minus the best other firm's."),
        Block("table", table=_gap_table(result)),
        Block("h2", "Contrasts at the horizon (base market)"),
        Block("table", table=_horizon_table(result)),
        *switch_blocks(result),
        *recovery_blocks(result),
    ]  # fmt: skip
    if len(result.scenarios) > 1:
        out += [
            Block("h2", "Where the policy pays (scenario discovery)"),
            Block("p", (
                "Boxes of market conditions from a shallow decision tree over the scenarios. "
                "Coverage: the share of all scenarios of that outcome inside the box; "
                "density: the share of the box's scenarios with that outcome."
            )),
        ]  # fmt: skip
        rules = _rules_table(result)
        out.append(
            Block("table", table=rules) if len(rules)
            else Block("p", "No boxes: each policy pays in all of the markets tried or in none.")
        )  # fmt: skip
    out += [Block("h2", "Figures")]
    out += [Block("figure", name) for name in figure_names]
    out += [Block("p", (
        "Tables: contrasts.parquet, breakeven.parquet, scenarios.parquet, rules.parquet, "
        "firm_gaps.parquet, runs.parquet"
        + ", switches.parquet" * (not result.switches.empty)
        + ", recovery.parquet" * (not result.recovery.empty)
        + "; raw runs in runs/."
    ))]  # fmt: skip
    return out


def _gap_table(result: PolicyResult) -> pd.DataFrame:
    g = result.firm_gaps[result.firm_gaps.scenario == BASE_SCENARIO]
    order = {p: i for i, p in enumerate(result.study.policies)}
    g = g.sort_values(["firm", "policy"], key=lambda c: c.map(order) if c.name == "policy" else c)
    return pd.DataFrame({
        "policy": g["policy"], "firm": g["firm"],
        "NPV minus best rival": g["mean"].map("{:,.0f}".format),
        "95% CI": _intervals(g, "{:,.0f}"),
    })  # fmt: skip


def _horizon_table(result: PolicyResult) -> pd.DataFrame:
    c = result.contrasts
    rows = c[(c.scenario == BASE_SCENARIO) & (c.step == result.study.horizon)]
    rows = rows[[result.policy_firm(p) == f for p, f in zip(rows.policy, rows.firm, strict=True)]]
    return pd.DataFrame({
        "policy": rows["policy"], "firm": rows["firm"], "metric": rows["metric"],
        "mean difference": rows["mean"].map("{:.4g}".format),
        "95% CI": _intervals(rows, "{:.4g}"),
    })  # fmt: skip


def _intervals(rows: pd.DataFrame, number: str) -> list[str]:
    return [
        f"{number.format(lo)} to {number.format(hi)}"
        for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
    ]


def _rules_table(result: PolicyResult) -> pd.DataFrame:
    rows = []
    boxes = result.rules.groupby(["policy", "outcome", "box"], sort=False)
    for (policy, outcome, _), group in boxes:
        rows.append({
            "policy": policy, "outcome": outcome, "conditions": analysis.describe_box(group),
            "coverage": f"{group.iloc[0]['coverage']:.0%}",
            "density": f"{group.iloc[0]['density']:.0%}", "scenarios": group.iloc[0]["scenarios"],
        })  # fmt: skip
    return pd.DataFrame(rows)


def to_markdown(report: list[Block]) -> str:
    """The report's blocks as Markdown (figures as links to the PNG files)."""
    lines: list[str] = []
    for block in report:
        if block.kind == "h1":
            lines += [f"# {block.text}", ""]
        elif block.kind == "h2":
            lines += [f"## {block.text}", ""]
        elif block.kind == "p":
            lines += [block.text, ""]
        elif block.kind == "figure":
            lines += [f"![{block.text}]({block.text}.png)", ""]
        elif block.table is not None:
            t = block.table.astype(str)
            lines += ["| " + " | ".join(t.columns) + " |", "|" + "---|" * len(t.columns)]
            lines += ["| " + " | ".join(row) + " |" for row in t.itertuples(index=False)]
            lines += [""]
    return "\n".join(lines)


def to_html(report: list[Block], images: dict[str, bytes]) -> str:
    """The report's blocks as one self-contained HTML page (figures embedded)."""
    body = []
    for block in report:
        if block.kind in ("h1", "h2"):
            body.append(f"<{block.kind}>{html.escape(block.text)}</{block.kind}>")
        elif block.kind == "p":
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif block.kind == "figure":
            data = base64.b64encode(images[block.text]).decode()
            body.append(f'<img alt="{block.text}" src="data:image/png;base64,{data}">')
        elif block.table is not None:
            body.append(block.table.to_html(index=False, border=0))
    title = html.escape(report[0].text)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}}
table{{border-collapse:collapse}}
td,th{{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}}
img{{max-width:100%}}</style></head>
<body>
{chr(10).join(body)}
</body></html>
"""


def write_report(result: PolicyResult) -> str:
    """Write the figures, report.md and report.html into the study folder; return the text."""
    with plt.rc_context({"font.size": 11, "axes.titlesize": 12}):  # the report's style only
        drawn = figures(result)
    return publish(result.folder, drawn, lambda names: blocks(result, names))


def publish(
    folder: Path, drawn: dict[str, Figure], build: Callable[[list[str]], list[Block]]
) -> str:
    """Write ``drawn`` as PNG files, and the report ``build`` makes from their names as
    ``report.md`` and a self-contained ``report.html``, into ``folder``; return the text.
    (The policy lab and the fit share it.)"""
    import io

    images = {}
    for name, fig in drawn.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        images[name] = buffer.getvalue()
        write_bytes(folder / f"{name}.png", images[name])
    report = build(list(images))
    text = to_markdown(report)
    write_text(folder / "report.md", text)
    write_text(folder / "report.html", to_html(report, images))
    return text
