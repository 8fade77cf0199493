"""The policy study's figures and its report in words (Markdown and self-contained HTML).

Every number in the report is read from the tables the study wrote
(``contrasts``, ``breakeven``, ``rules``, ``firm_gaps``), so each traces to a row.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

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
        ax.set_title(metric.replace("_", " "))
        ax.set_xlabel("week")
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    axes.flat[0].set_ylabel(f"minus {result.study.baseline_policy}")
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=min(4, len(result.study.others)))  # fmt: skip
    fig.suptitle("Policy minus baseline in the base market (mean and 95% band over paired runs)")
    return fig


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
    if len(result.scenarios) > 1:
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
        losing = result.rules[(result.rules.policy == policy)
                              & (result.rules.outcome == "does not pay")]  # fmt: skip
        if len(losing):
            best = losing[losing.box == losing.iloc[0]["box"]]
            text += (
                f" It does not pay when {analysis.describe_box(best)} "
                f"(coverage {best.iloc[0]['coverage']:.0%}, density {best.iloc[0]['density']:.0%})."
            )
    return text


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
    return ", ".join(f"{k} = {v}" for k, v in levers.items()) or "the scenario's own settings"


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
        "firm_gaps.parquet, runs.parquet; raw runs in runs/."
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
    import io

    images = {}
    with plt.rc_context({"font.size": 11, "axes.titlesize": 12}):  # the report's style only
        drawn = figures(result)
    for name, fig in drawn.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        images[name] = buffer.getvalue()
        write_bytes(result.folder / f"{name}.png", images[name])
    report = blocks(result, list(images))
    text = to_markdown(report)
    write_text(result.folder / "report.md", text)
    write_text(result.folder / "report.html", to_html(report, images))
    return text
