"""Shocks a teacher triggers by hand while the model runs.

Each shock acts through the model's own rules (docs/ODD.md), so what it does to beliefs,
bank accounts, ratings and costs is what the same event would do in a run:

- **viral bad review** about a firm: ``VIRAL_REVIEWS`` one-star reviews land on
  the platform, and every customer, customer of the firm or not, reads the
  story with probability ``news.reach``: benevolence evidence 0 at word-of-mouth
  weight, softened by the trust buffer;
- **data breach** at a firm: submodel 7.1, forced to happen now;
- **warning month**: for ``WARNING_WEEKS`` steps the firm warns at every costly
  mistake (warn rate 1), then returns to its own warn rate;
- **bad experience** of one customer (for lessons): an exploitation the
  customer discovers, told to its neighbours by word-of-mouth (7.2, 7.4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from trustsim import phases, rules
from trustsim.rules import BENEVOLENCE

if TYPE_CHECKING:
    from trustsim.model import TrustModel

VIRAL_REVIEWS = 25
WARNING_WEEKS = 4


def viral_bad_review(model: TrustModel, firm: int) -> int:
    """One-star reviews and a story read far and wide; returns how many read it."""
    sc, st = model.config, model.state
    count = np.zeros(len(sc.firms))
    count[firm] = VIRAL_REVIEWS
    model.accounts.add_reviews(count, count * 1.0)
    readers = np.flatnonzero(model.streams.shocks.random(st.n) < sc.news.reach)
    _, _, trust = model.trust_of(readers, np.full(readers.size, firm))
    for reader, t in zip(readers, trust, strict=True):  # trust as it was before anyone read
        down = rules.buffered(sc.trust.eta_down, t, sc.trust.buffer)
        before = st.beliefs[reader, firm, BENEVOLENCE]
        st.beliefs[reader, firm, BENEVOLENCE] = rules.learn(
            before, 0.0, sc.trust.eta_up, down, weight=sc.wom.weight
        )
    return int(readers.size)


def data_breach(model: TrustModel, firm: int) -> None:
    """A breach at ``firm`` now (ODD 7.1), with its costs on this step's ledger."""
    # hazard 1 at this firm (no protection) and 0 at every other (full protection)
    protection = {
        f"firms.{g}.data_protection": 0.0 if g == firm else 1.0
        for g in range(len(model.config.firms))
    }
    certain = model.config.with_overrides({"market.breach_rate": 1.0, **protection})
    context = phases.Context.of(certain, model.network)
    phases.breach(model.state, model.ledger, context, model.shock_dice())


def warning_month(model: TrustModel, firm: int, weeks: int = WARNING_WEEKS) -> None:
    """The firm warns at every costly mistake for ``weeks`` steps."""
    model.schedule_override(f"firms.{firm}.warn_rate", 1.0, weeks)


def bad_experience(model: TrustModel, customer: int) -> int:
    """Customer ``customer`` is exploited, finds out and tells its neighbours.

    Returns how many neighbours heard the story. The customer's own beliefs
    and bank take the hit of a discovered exploitation (6.2); the story then
    travels by word-of-mouth (6.4) to customers and prospects alike.
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


BY_NAME: dict[str, Callable[[TrustModel, int], object]] = {
    "viral_bad_review": viral_bad_review,
    "breach": data_breach,
    "warning_month": warning_month,
}
"""The shocks a teacher triggers on a firm, by the name the pages and the API use."""
