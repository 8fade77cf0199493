"""The timeline (ODD 8a): the events a scenario schedules, and the shocks a teacher
triggers by hand, through one function per kind.

A scheduled event runs at the start of its week, before the breach phase
(:meth:`TrustModel.step`); a classroom button builds the same event and runs it
now (:meth:`TrustModel.trigger`). Each acts through the model's own rules:

- **breach**: submodel 7.1 forced to happen at the firm;
- **viral_review**: ``VIRAL_REVIEWS`` one-star (bad) or five-star (good) reviews
  land on the platform, and every customer, customer of the firm or not, reads
  the story with probability ``reach`` (default ``news.reach``): benevolence
  evidence 0 (bad) or 1 (good) at word-of-mouth weight, a fall softened by trust;
- **set** and **strategy**: new parameter values from now on;
- **enter** and **exit**: the firm joins or leaves the market; on exit its
  customers become prospects (churns and exits of the firm).

Two teacher's tools are not events: the **warning month** (the firm warns at
every costly mistake for ``WARNING_WEEKS`` weeks) and one customer's **bad
experience**, told to its neighbours by word-of-mouth (7.2, 7.4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from trustsim import kernels, phases, rules
from trustsim.config import (
    AnyEvent,
    BreachEvent,
    EnterEvent,
    ExitEvent,
    SetEvent,
    StrategyEvent,
    ViralReviewEvent,
    event_overrides,
)
from trustsim.state import NO_PROVIDER

if TYPE_CHECKING:
    from trustsim.model import TrustModel

VIRAL_REVIEWS = 25
WARNING_WEEKS = 4
STARS = {"bad": 1.0, "good": 5.0}  # a viral story's reviews
EVIDENCE = {"bad": 0.0, "good": 1.0}  # and its benevolence evidence


def apply(model: TrustModel, event: AnyEvent) -> int | None:
    """Make ``event`` happen now in ``model``, onto the current week's ledger.

    Returns how many customers it reached where that is a count (the readers of a
    viral story, the customers a breach or an exit hit), else None.
    """
    firm = model.config.firm_names.index(event.firm) if hasattr(event, "firm") else -1
    if isinstance(event, BreachEvent):
        return breach(model, firm)
    if isinstance(event, ViralReviewEvent):
        reach = model.config.news.reach if event.reach is None else event.reach
        return viral_review(model, firm, event.tone, reach)
    if isinstance(event, EnterEvent):
        model.set_in_market(firm, True)
        return None
    if isinstance(event, ExitEvent):
        return leave(model, firm)
    model.reconfigure(event_overrides(event))  # set, strategy
    return None


def record(event: AnyEvent, week: int, reached: int | None) -> dict[str, object]:
    """One row of ``events.parquet``: when, what, where, in words, and whom it reached."""
    detail = ""
    if isinstance(event, ViralReviewEvent):
        detail = f"{event.tone} story" + ("" if event.reach is None else f", reach {event.reach:g}")
    elif isinstance(event, SetEvent):
        detail = f"{event.key} = {event.value}"
    elif isinstance(event, StrategyEvent):
        extra = ", ".join(f"{k} = {v}" for k, v in event.overrides.items())
        detail = f"adopts {event.preset}" + (f" ({extra})" if extra else "")
    return {
        "week": week,
        "kind": event.kind,
        "firm": getattr(event, "firm", ""),
        "detail": detail,
        "reached": np.nan if reached is None else float(reached),
    }


def label(row: dict[str, object]) -> str:
    """A short label for a figure's event line: ``breach: short_term``."""
    what = str(row["kind"]).replace("_", " ")
    if row["firm"]:
        return f"{what}: {row['firm']}"
    return f"{what}: {str(row['detail']).removeprefix('firms.')}"


def breach(model: TrustModel, firm: int) -> int:
    """A breach at ``firm`` now (ODD 7.1), its costs on the current ledger; returns
    how many of its customers it hit."""
    # hazard 1 at this firm (no protection) and 0 at every other (full protection)
    protection = {
        f"firms.{g}.data_protection": 0.0 if g == firm else 1.0
        for g in range(len(model.config.firms))
    }
    certain = model.config.with_overrides({"market.breach_rate": 1.0, **protection})
    context = phases.Context(certain, model.network, model.context.present)
    phases.breach(model.state, model.ledger, context, model.shock_dice())
    return int(np.count_nonzero(model.state.provider == firm))


def viral_review(model: TrustModel, firm: int, tone: str = "bad", reach: float = 0.5) -> int:
    """A story about ``firm`` read far and wide, and its reviews; returns how many read it."""
    count = np.zeros(len(model.config.firms))
    count[firm] = VIRAL_REVIEWS
    model.accounts.add_reviews(count, count * STARS[tone])
    dice = model.shock_dice()
    readers = phases.run(
        kernels.viral_review, model.state, params=model.context.params, key=dice.key,
        step=dice.step, firm=firm, evidence=EVIDENCE[tone], reach=reach,
    )  # fmt: skip
    return int(readers)


def leave(model: TrustModel, firm: int) -> int:
    """``firm`` leaves the market: its customers become prospects, booked as its churns
    and exits on the current ledger. Returns how many customers it had."""
    rows = np.flatnonzero(model.state.provider == firm)
    phases.apply_choices(model.state, model.ledger, rows, np.full(rows.size, NO_PROVIDER))
    model.set_in_market(firm, False)
    return int(rows.size)


def warning_month(model: TrustModel, firm: int, weeks: int = WARNING_WEEKS) -> None:
    """The firm warns at every costly mistake for ``weeks`` steps."""
    model.schedule_override(f"firms.{firm}.warn_rate", 1.0, weeks)


def bad_experience(model: TrustModel, customer: int) -> int:
    """Customer ``customer`` is exploited, finds out and tells its neighbours.

    Returns how many neighbours heard the story. The customer's own beliefs
    and bank take the hit of a discovered exploitation (7.2); the story then
    travels by word-of-mouth (7.4) to customers and prospects alike.
    """
    st, sc = model.state, model.config
    firm = int(st.provider[customer]) if st.provider[customer] >= 0 else 0
    _, _, trust = model.trust_of(np.array([customer]), np.array([firm]))
    down = rules.buffered(sc.trust.eta_down, trust[0], sc.trust.buffer)
    for aspect in (rules.BENEVOLENCE, rules.INTEGRITY):
        st.beliefs[customer, firm, aspect] = rules.learn(
            st.beliefs[customer, firm, aspect], 0.0, sc.trust.eta_up, down
        )
    st.balance[customer, firm] = rules.withdraw(
        st.balance[customer, firm], sc.bank.d_exploit, sc.bank.loss_aversion
    )
    st.reset_events()
    st.story[customer] = rules.EXPLOITED
    st.story_firm[customer] = firm
    st.story_evidence[customer] = 0.0
    heard_before = model.ledger.wom_negative[firm]
    phases.talk(st, model.ledger, model.context, model.shock_dice())  # told, not reviewed
    st.reset_events()
    return int(model.ledger.wom_negative[firm] - heard_before)


def _button(kind: str) -> Callable[[TrustModel, int], object]:
    def press(model: TrustModel, firm: int) -> object:
        name, week = model.config.firm_names[firm], max(model.n_steps, 1)
        event: AnyEvent = (
            BreachEvent(week=week, kind="breach", firm=name)
            if kind == "breach"
            else ViralReviewEvent(week=week, kind="viral_review", firm=name)
        )
        return model.trigger(event)

    press.__doc__ = f"The {kind.replace('_', ' ')} event at ``firm``, now."
    return press


BY_NAME: dict[str, Callable[[TrustModel, int], object]] = {
    "viral_bad_review": _button("viral_review"),
    "breach": _button("breach"),
    "warning_month": warning_month,
}
"""The shocks a teacher triggers on a firm, by the name the pages and the API use: the
first two build the timeline's events and run them now."""
