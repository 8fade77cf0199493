"""The classroom model and its pictures, without any web framework.

``ClassroomModel`` is a :class:`~trustsim.model.TrustModel` built from
:class:`Settings` (a config file, live overrides and a network seed), which is
what the page rebuilds the model from on Reset: Reset keeps the seed (the same
network), "new network" changes it. The drawing functions return matplotlib
figures; the network layout is computed once per network and cached.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trustsim import builtin
from trustsim.config import PRESETS, Scenario, describe, get_dotted, load_scenario, preset_overrides
from trustsim.config import sensitivity_ranges as declared_ranges
from trustsim.model import TrustModel

DEFAULT_CONFIG = builtin.resolve("classroom", "scenario")  # package data: works from a wheel
PROSPECT_GREY = "#c8c8c8"
NETWORK_INCHES, NETWORK_DPI = 4.4, 90  # the network image is 396 x 396 pixels
PLOT_INCHES = (6.3, 5.4)  # 567 x 486 pixels: beside the network on a 1400 x 900 projector
LEGEND_COLUMNS = 3  # firms and "no provider" per legend row: wider rows would be cut off
FONT = {"title": 14, "label": 13, "ticks": 12, "legend": 12}  # readable from the back row
# the market-wide sliders; each firm also gets strategy, warn rate and promise
MARKET_KEYS = ("market.beta_proof", "wom.p_positive", "wom.p_negative")
FIRM_KEYS = ("warn_rate", "promise")


@dataclass
class Settings:
    """What a reset rebuilds from: the config, the live overrides and the network seed."""

    config: Path = DEFAULT_CONFIG
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: int = 1

    def scenario(self) -> Scenario:
        """The scenario: the config file with the controls' overrides applied."""
        return load_scenario(self.config, self.overrides)


class ClassroomModel(TrustModel):
    """A TrustModel that the page can rebuild from its settings on Reset."""

    def __init__(self, settings: Settings) -> None:
        # the pages read the model's own records; Mesa's collector would only cost time
        super().__init__(
            settings.scenario(), seed=settings.seed, agent_handles=True, datacollector=False
        )
        self.settings = settings
        self.shock_log: list[str] = []
        self.selected: int | None = None  # the customer shown in the inspector
        self.plots = LivePlots(self.config.firm_names)
        self.picture: NetworkPicture | None = None  # drawn when first shown

    @property
    def positions(self) -> np.ndarray:
        """Node positions, (N, 2): one spring layout per network, reused across steps."""
        return _drawing(self)[0]

    @property
    def edges(self) -> np.ndarray:
        """The network's edges as (E, 2) node pairs, for drawing."""
        return _drawing(self)[1]

    def collect_shock(self, line: str) -> None:
        """Note a shock and refresh this step's records, so the plots show it at once."""
        self.shock_log.append(line)
        self.collect()  # replaces this step's observation

    def set_parameter(self, key: str, value: Any) -> None:
        """A control moved: apply now, and keep it for the next reset."""
        change = {key: value}
        if key.endswith(".strategy"):  # a strategy picked from the list: its whole preset
            change.update(preset_overrides(key.removesuffix(".strategy"), str(value)))
        self.reconfigure(change)
        self.settings.overrides.update(change)


_DRAWINGS: dict[tuple[int, int, str], tuple[np.ndarray, np.ndarray]] = {}
_DRAWINGS_KEPT = 16


def _drawing(model: ClassroomModel) -> tuple[np.ndarray, np.ndarray]:
    """Positions and edges of the model's own network. The spring layout is the slow
    part, so it is kept per (seed, size, network) and reused after a Reset."""
    key = (
        model.settings.seed,
        model.config.population.size,
        model.config.network.model_dump_json(),
    )
    if key not in _DRAWINGS:
        graph = model.network.to_networkx()
        pos = nx.spring_layout(graph, seed=key[0], iterations=100)
        positions = np.array([pos[i] for i in range(key[1])])
        _DRAWINGS[key] = positions, np.array(graph.edges, dtype=np.int64).reshape(-1, 2)
        while len(_DRAWINGS) > _DRAWINGS_KEPT:
            del _DRAWINGS[next(iter(_DRAWINGS))]
    return _DRAWINGS[key]


# ---------------------------------------------------------------------- controls


def controls(model: ClassroomModel) -> list[dict[str, Any]]:
    """The sliders and selectors, generated from the schema: key, label, range, value."""
    ranges = declared_ranges(model.config)
    items = []
    for key in MARKET_KEYS:
        items.append(_slider(model, key, key, ranges[key]))
    for f, firm in enumerate(model.config.firms):
        items.append(
            {
                "key": f"firms.{f}.strategy",
                "label": f"{firm.name}: strategy",
                "kind": "select",
                "options": list(PRESETS),
                "value": firm.strategy,
            }
        )
        for name in FIRM_KEYS:
            key = f"firms.{f}.{name}"
            items.append(_slider(model, key, f"{firm.name}: {describe(key)}", ranges[key]))
    return items


def _slider(
    model: ClassroomModel, key: str, label: str, bounds: tuple[float, float]
) -> dict[str, Any]:
    value = get_dotted(model.config, key)
    low, high = min(bounds[0], value), max(bounds[1], value)
    text = label if label != key else f"{describe(key)}"
    step = 10.0 ** np.floor(np.log10((high - low) / 20))  # a round step: 0.01, 0.1, ...
    return {
        "key": key,
        "label": text,
        "kind": "slider",
        "min": low,
        "max": high,
        "step": float(step),
        "value": value,
    }


# ---------------------------------------------------------------------- pictures


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (the pages serve or embed them)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def firm_colours(names: list[str]) -> dict[str, str]:
    """A colour per firm name, from matplotlib's default cycle."""
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def network_figure(model: ClassroomModel, selected: int | Sequence[int] | None = None) -> Figure:
    """Nodes coloured by provider (prospects grey), size by trust in that provider; the
    selected customer ringed. One figure per model, updated in place each step."""
    if model.picture is None:
        model.picture = NetworkPicture(model)
    return model.picture.update(model, selected)


class NetworkPicture:
    """The network drawing of one model: edges and nodes are drawn once, and each step
    only the nodes' colours and sizes change (a new figure per step made the page slow
    and left matplotlib garbage that stalled some steps)."""

    def __init__(self, model: ClassroomModel) -> None:
        self.positions = pos = model.positions
        names = model.config.firm_names
        self.colours = firm_colours(names)
        self.figure = fig = Figure(figsize=(NETWORK_INCHES, NETWORK_INCHES), dpi=NETWORK_DPI)
        rows = math.ceil((len(names) + 1) / LEGEND_COLUMNS)  # the legend's rows above the net
        ax = fig.add_axes((0.01, 0.01, 0.98, 0.96 - 0.07 * rows))
        segments = pos[model.edges]  # (E, 2 ends, 2 coordinates)
        ax.add_collection(LineCollection(segments, colors="#dddddd", linewidths=0.6, zorder=1))
        self.nodes = ax.scatter(
            pos[:, 0], pos[:, 1], s=25, c=PROSPECT_GREY, edgecolors="white", linewidths=0.5,
            zorder=2,
        )  # fmt: skip
        self.ring = ax.scatter(
            [], [], s=420, facecolors="none", edgecolors="black", linewidths=2, zorder=3
        )
        for name in names:
            ax.scatter([], [], color=self.colours[name], label=name)
        ax.scatter([], [], color=PROSPECT_GREY, label="no provider")
        ax.legend(
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=min(LEGEND_COLUMNS, len(names) + 1),
            frameon=False,
            fontsize=FONT["legend"],
            handletextpad=0.1,
            columnspacing=0.8,
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal", adjustable="datalim")
        for spine in ax.spines.values():
            spine.set_visible(False)

    def update(self, model: ClassroomModel, selected: int | Sequence[int] | None) -> Figure:
        """Colour and size the nodes for this step, ring ``selected`` (one customer, or
        several: the students' nodes); return the figure."""
        st, names = model.state, model.config.firm_names
        provider = st.provider
        trust = np.zeros(st.n)
        has = provider >= 0
        rows = np.flatnonzero(has)
        trust[has] = model.trust_of(rows, provider[has])[2]
        self.nodes.set_sizes(25 + 220 * trust)
        self.nodes.set_facecolor(
            [self.colours[names[f]] if f >= 0 else PROSPECT_GREY for f in provider]
        )
        ringed = [] if selected is None else [selected] if isinstance(selected, int) else selected
        ring = self.positions[list(ringed)] if len(ringed) else np.empty((0, 2))
        self.ring.set_offsets(ring)
        return self.figure


def node_at(
    model: ClassroomModel, fig: Figure, x: float, y: float, radius: float = 14
) -> int | None:
    """The node under pixel (x, y) of the network image (origin top left), if any."""
    ax = fig.axes[0]
    fig.canvas.draw()
    height = fig.get_size_inches()[1] * fig.dpi
    points = ax.transData.transform(model.positions)
    distance = np.hypot(points[:, 0] - x, points[:, 1] - (height - y))
    nearest = int(np.argmin(distance))
    return nearest if distance[nearest] <= radius else None


def history(model: TrustModel) -> pd.DataFrame:
    """The model's per-firm records so far, as a DataFrame."""
    return pd.DataFrame.from_records(model.firm_records)


class LivePlots:
    """Market share, reputation and public rating per firm; word-of-mouth per week.

    Built once per model and updated in place each step: creating matplotlib
    artists (axes, ticks, lines) costs more than drawing them.
    """

    PANELS = (
        ("share", "market share"),
        ("reputation", "reputation (mean trust)"),
        ("rating", "public rating (stars)"),
    )
    TALK = (("wom_positive", "positive", "#2a9d8f"), ("wom_negative", "negative", "#e76f51"))

    def __init__(self, firm_names: list[str]) -> None:
        colours = firm_colours(firm_names)
        self.figure = Figure(figsize=PLOT_INCHES, dpi=NETWORK_DPI)
        axes = self.figure.subplots(2, 2, sharex=True)
        self.figure.subplots_adjust(
            left=0.09, right=0.98, top=0.93, bottom=0.11, hspace=0.32, wspace=0.28
        )
        self.axes = list(axes.flat)
        self.lines: dict[tuple[str, str], Any] = {}
        for ax, (column, title) in zip(self.axes, self.PANELS, strict=False):
            for firm in firm_names:
                # a dot on the latest week, so week 0 already shows where each firm stands
                self.lines[column, firm] = ax.plot(
                    [], [], color=colours[firm], label=firm, marker="o", markevery=[-1]
                )[0]
            ax.set_title(title, fontsize=FONT["title"])
        for column, label, colour in self.TALK:
            self.lines[column, ""] = self.axes[3].plot(
                [], [], color=colour, label=label, marker="o", markevery=[-1]
            )[0]
        self.axes[3].set_title("word-of-mouth per week", fontsize=FONT["title"])
        for ax in self.axes:
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=FONT["ticks"])
        self.axes[0].legend(frameon=False, fontsize=FONT["legend"])
        self.axes[3].legend(frameon=False, fontsize=FONT["legend"])
        for ax in axes[1]:
            ax.set_xlabel("week", fontsize=FONT["label"])
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))

    def update(self, model: TrustModel) -> Figure:
        """Redraw the lines from the model's records and return the figure."""
        ts = history(model)
        for (column, firm), line in self.lines.items():
            if firm:
                rows = ts[ts["firm"] == firm]
                line.set_data(rows["step"], rows[column])
        wom = ts.groupby("step")[["wom_positive", "wom_negative"]].sum()
        for column, _, _ in self.TALK:
            self.lines[column, ""].set_data(wom.index, wom[column])
        # sensible axes from week 0 on: shares and trust on their whole scale, stars 1 to 5,
        # talk from 0, and at least ten weeks of time
        weeks = max(10, int(ts["step"].max()))
        for ax, (low, high) in zip(self.axes, ((0, 1), (0, 1), (1, 5)), strict=False):
            ax.set_ylim(low, high)
        self.axes[3].set_ylim(0, max(5.0, 1.15 * float(wom.to_numpy().max())))
        self.axes[0].set_xlim(0, weeks)  # shared by all four panels
        return self.figure


def shares_figure(models: Sequence[TrustModel], titles: Sequence[str]) -> Figure:
    """Market share per firm over the weeks, one panel per world, on shared axes: the
    participatory classroom's projector plot."""
    names = models[0].config.firm_names
    colours = firm_colours(names)
    fig = Figure(figsize=(PLOT_INCHES[0], 2.2 * len(models) + 0.6), dpi=NETWORK_DPI)
    axes = fig.subplots(len(models), 1, sharex=True, squeeze=False)[:, 0]
    weeks = max(10, max(m.n_steps for m in models))
    tables = [history(model) for model in models]
    # scaled to the data (shares of a class's world rarely pass 0.5), the same in every panel
    top = min(1.0, max(0.2, 1.15 * max(float(t["share"].max()) for t in tables)))
    for ax, ts, title in zip(axes, tables, titles, strict=True):
        for firm in names:
            rows = ts[ts["firm"] == firm]
            ax.plot(rows["step"], rows["share"], color=colours[firm], label=firm, lw=2.5,
                    marker="o", markevery=[-1])  # fmt: skip
        ax.set_title(title, fontsize=FONT["title"])
        ax.set_ylim(0, top)
        ax.set_xlim(0, weeks)
        ax.set_ylabel("share", fontsize=FONT["label"])
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=FONT["ticks"])
    # above the panels: inside one it would cover the lines, now scaled to fill it
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", frameon=False, fontsize=FONT["legend"],
               ncol=len(names))  # fmt: skip
    axes[-1].set_xlabel("week", fontsize=FONT["label"])
    axes[-1].xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


def plots_figure(model: TrustModel) -> Figure:
    """The page's plots for ``model``, drawn on a fresh figure."""
    return LivePlots(model.config.firm_names).update(model)


def describe_customer(model: ClassroomModel, i: int) -> list[dict[str, Any]]:
    """Beliefs and trust of customer ``i`` in each firm, for the inspector (read
    through the customer's Mesa agent, :class:`trustsim.agents.Customer`)."""
    customer = model.customers[i]
    rows = []
    for f, name in enumerate(model.config.firm_names):
        trust = customer.trust(f)
        rows.append(
            {
                "firm": name,
                **customer.beliefs(f),
                "cognitive": trust["cognitive"],
                "affective": trust["affective"],
                "trust": trust["overall"],
            }
        )
    return rows
