"""The classroom page: a live network, plots, controls and shocks, readable on a projector.

Served by ``trustsim app``, which sets ``TRUSTSIM_APP_CONFIG``. Nothing is
built at import time: each browser session builds its own model in ``Page``.
Every asset comes from installed packages (solara-assets), and the page uses
no component that fetches from a CDN (no Markdown, whose maths needs KaTeX),
so it works offline.
"""

from __future__ import annotations

import base64
import html
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara
from matplotlib.figure import Figure
from mesa.visualization.utils import force_update, update_counter

from trustsim import events
from trustsim.viz.classroom import (
    DEFAULT_CONFIG,
    NETWORK_DPI,
    NETWORK_INCHES,
    ClassroomModel,
    Settings,
    controls,
    describe_customer,
    network_figure,
    node_at,
    png_bytes,
)

SHOCK_LABELS = {"viral_bad_review": "Viral bad review", "breach": "Data breach",
                "warning_month": "Warning month"}  # fmt: skip
SHOCKS: dict[str, Callable[[ClassroomModel, int], object]] = {
    label: events.BY_NAME[name] for name, label in SHOCK_LABELS.items()
}
NOTICE = """<p><b>Things to notice.</b> Colours are providers, grey nodes have none; big
nodes trust their provider. Bad stories reach people who never bought. Early on, a
few reviews move the rating.</p><p><b>Things to try.</b> Raise social proof and press
<i>New network</i> a few times: does the same firm win? Trigger a viral bad review
on the leader. Give the short-term firm a warning month.</p>"""


def png(fig: Figure) -> str:
    """The figure as a PNG data URL, for an <img> element."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(fig)).decode()


def NetworkView(model: ClassroomModel) -> None:
    """The network; clicking a node selects that customer for the inspector."""
    update_counter.get()
    fig = network_figure(model, model.selected)
    size = int(NETWORK_INCHES * NETWORK_DPI)
    image = solara.v.Html(
        tag="img",
        attributes={
            "src": png(fig),
            "id": "trust-network",
            "alt": "customer network",
            "style": f"width: {size}px; height: {size}px; cursor: pointer",
        },
    )

    def on_click(widget: Any, event: str, data: dict[str, Any]) -> None:
        node = node_at(model, fig, float(data["offsetX"]), float(data["offsetY"]))
        if node is not None:
            model.selected = node
            force_update()

    solara.v.use_event(image, "click", on_click)


def Plots(model: ClassroomModel) -> None:
    """The live plots and each firm's share and rating in words."""
    update_counter.get()
    solara.v.Html(
        tag="img",
        attributes={
            "src": png(model.plots.update(model)),
            "id": "trust-plots",
            "alt": "market share, reputation, rating, talk",
        },
    )
    latest = model.firm_records[-len(model.config.firms) :]
    solara.HTML(
        tag="div",
        classes=["summary"],
        unsafe_innerHTML=" · ".join(
            f"<b>{html.escape(r['firm'])}</b>: share {100 * r['share']:.0f}%, rating "
            f"<span class='rating' data-firm='{html.escape(r['firm'])}'>{r['rating']:.2f}</span>"
            for r in latest
        ),
    )


def Inspector(model: ClassroomModel) -> None:
    """Beliefs and trust of the selected customer in each firm, as a table."""
    i = model.selected
    if i is None:
        solara.Text("Click a node to see that customer's trust.")
        return
    provider = model.state.provider[i]
    name = model.config.firm_names[provider] if provider >= 0 else "none (prospect)"
    cells = "".join(
        f"<tr><td>{html.escape(r['firm'])}</td>"
        + "".join(
            f"<td>{r[k]:.2f}</td>"
            for k in ("ability", "benevolence", "integrity", "cognitive", "affective", "trust")
        )
        + "</tr>"
        for r in describe_customer(model, i)
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<p class='inspected'>Customer {i}, provider: <b>{html.escape(name)}</b></p>"
            "<table class='inspector'><tr><th>firm</th><th>abil.</th><th>benev.</th>"
            f"<th>integ.</th><th>cogn.</th><th>affect.</th><th>trust</th></tr>{cells}</table>"
        ),
    )


def Sidebar(model: ClassroomModel, model_ref: solara.Reactive[ClassroomModel]) -> None:
    """Controls from the schema, shocks, new network and the inspector, in the sidebar."""
    update_counter.get()
    Shocks(model)  # first: a teacher reaches for them mid-lesson, without scrolling
    with solara.Card("Customer"):
        Inspector(model)
    Parameters(model)
    with solara.Card("Network"):

        def new_network() -> None:
            model.settings.seed += 1
            model_ref.set(ClassroomModel(model.settings))

        solara.Button("New network", on_click=new_network)
        solara.Text("Reset keeps this network; New network draws another.")
    solara.HTML(tag="div", unsafe_innerHTML=NOTICE)


def Parameters(model: ClassroomModel) -> None:
    """Sliders and selectors for the live parameters, generated from the schema."""
    with solara.Card("Parameters (apply at once)"):
        for item in controls(model):
            key = item["key"]

            def change(value: Any, key: str = key) -> None:
                model.set_parameter(key, value)
                force_update()

            if item["kind"] == "select":
                solara.Select(
                    label=item["label"],
                    values=item["options"],
                    value=item["value"],
                    on_value=change,
                )
            else:
                solara.Text(f"{item['label']}: {item['value']:g}", classes=["slider-label"])
                solara.SliderFloat(
                    label="",
                    value=item["value"],
                    min=item["min"],
                    max=item["max"],
                    step=item["step"],
                    on_value=change,
                )


def Shocks(model: ClassroomModel) -> None:
    """One button per shock and firm, and the latest shocks in words."""
    with solara.Card("Shocks"):
        for f, firm in enumerate(model.config.firm_names):
            for label, shock in SHOCKS.items():

                def trigger(
                    shock: Callable[..., object] = shock,
                    f: int = f,
                    label: str = label,
                    firm: str = firm,
                ) -> None:
                    shock(model, f)
                    model.collect_shock(f"week {model.n_steps}: {label} at {firm}")
                    force_update()

                solara.Button(f"{label}: {firm}", on_click=trigger, small=True, text=True)
        for line in model.shock_log[-4:]:
            solara.Text(line)


def config_path() -> Path:
    """The scenario the app serves (``TRUSTSIM_APP_CONFIG``, set by ``trustsim app``)."""
    return Path(os.environ.get("TRUSTSIM_APP_CONFIG", str(DEFAULT_CONFIG)))


PLAY_INTERVAL = 0.3  # seconds between weeks while playing
STYLE = """
.v-application { font-size: 18px; }
.v-card__title { font-size: 22px !important; }
.v-btn { font-size: 16px !important; }
.week { font-size: 30px; font-weight: 600; margin: 4px 0 8px 0; color: #222; }
.summary { font-size: 22px; margin-top: 8px; }
.slider-label { font-size: 16px; }
table.inspector td, table.inspector th { padding: 2px 8px; font-size: 16px; }
"""


def Controller(model: ClassroomModel, model_ref: solara.Reactive[ClassroomModel]) -> None:
    """Week counter, Step, Play/Pause and Reset. Every click on Step is one week: clicks
    made while a week is computed wait their turn instead of being dropped."""
    update_counter.get()
    playing = solara.use_reactive(False)
    lock = solara.use_memo(threading.Lock, [])

    def step() -> None:
        with lock:
            model_ref.value.step()
        force_update()

    def play() -> None:
        while playing.value:
            step()
            time.sleep(PLAY_INTERVAL)

    solara.use_thread(play, dependencies=[playing.value])

    def reset() -> None:
        playing.value = False
        with lock:
            model_ref.set(ClassroomModel(model.settings))
        force_update()

    with solara.Card("Market"):
        solara.HTML(tag="div", unsafe_innerHTML=f"<div class='week'>Week {model.n_steps}</div>")
        with solara.Row():
            solara.Button("Step", on_click=step, disabled=playing.value)
            solara.Button(
                "Pause" if playing.value else "Play",
                on_click=lambda: playing.set(not playing.value),
            )
            solara.Button("Reset", on_click=reset)


@solara.component
def Page() -> None:
    """The classroom page: controls and sidebar on the left, network and plots beside."""
    settings = solara.use_memo(lambda: Settings(config=config_path()), [])
    first: ClassroomModel = solara.use_memo(lambda: ClassroomModel(settings), [])
    model_ref: solara.Reactive[ClassroomModel] = solara.use_reactive(first)
    model = model_ref.value
    solara.Style(STYLE)
    solara.Title("TrustSim classroom")
    with solara.AppBar():
        solara.AppBarTitle("TrustSim classroom: social proof and trust")
    with solara.Sidebar():
        Controller(model, model_ref)
        Sidebar(model, model_ref)
    with solara.Row(style={"flex-wrap": "nowrap", "gap": "8px", "align-items": "flex-start"}):
        NetworkView(model)
        with solara.Column():
            Plots(model)
