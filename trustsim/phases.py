"""One function per process step of the week (ODD section 3), each running its kernel.

Each phase reads the state as it was when the phase began (trust is computed
before anything is learned) and writes its results in place, so the order of
customers never matters. The loops over customers are the compiled kernels of
:mod:`trustsim.kernels`; this module hands them the state by name, the week's
random stream (a :class:`Dice`) and the ledger rows. Phases add this step's flows
to the ledger and never touch the disk.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from trustsim import kernels, layout, rules
from trustsim.config import Scenario
from trustsim.network import CompleteNetwork, Network
from trustsim.state import COLUMN, Accounts, CustomerState, Ledger

NO_SCRIPT = np.zeros((0, 0))  # the kernels draw from their counters


@dataclass(frozen=True)
class Dice:
    """A phase's random stream in one step: the stream's key and the step (ODD 3)."""

    key: np.uint64
    step: int


@dataclass(frozen=True)
class Context:
    """What the phases need that does not change during a run."""

    scenario: Scenario
    network: Network
    present: np.ndarray | None = None  # the firms in the market now (None: all)
    params: np.ndarray = field(init=False)  # one record of dtype layout.PARAMS
    firms: np.ndarray = field(init=False)  # one record of dtype layout.FIRM per firm
    graph: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", layout.params(self.scenario))
        object.__setattr__(self, "firms", layout.firms(self.scenario, self.present))
        object.__setattr__(self, "graph", _graph(self.network))

    @classmethod
    def of(cls, scenario: Scenario, network: Network, week: int = 0) -> Context:
        """The context of ``scenario`` on ``network`` in ``week`` (which firms are in
        the market then)."""
        return cls(scenario, network, scenario.in_market(week))

    @property
    def in_market(self) -> np.ndarray:
        """Whether each firm is in the market now, as booleans."""
        return self.firms["present"] > 0

    @property
    def n_firms(self) -> int:
        """The number of firms M."""
        return len(self.scenario.firms)

    @property
    def omega(self) -> float:
        """The weight of cognitive trust in overall trust at this market's risk (ODD 4)."""
        return float(self.params[0]["trust_omega"])


def _graph(net: Network) -> dict[str, Any]:
    """The network as the kernels read it: CSR arrays (int64, so one compiled version
    serves every network), degrees, and whether it is the implicit complete one."""
    if isinstance(net, CompleteNetwork):
        empty = np.zeros(1, dtype=np.int64)
        return {"indptr": empty, "indices": empty, "degree": net.degree, "complete": True}
    adjacency = net.adjacency
    return {
        "indptr": adjacency.indptr.astype(np.int64),
        "indices": adjacency.indices.astype(np.int64),
        "degree": net.degree.astype(np.int64),
        "complete": False,
    }


@cache
def _arguments(kernel: Any) -> tuple[str, ...]:
    return tuple(inspect.signature(kernel.py_func).parameters)


def run(kernel: Any, state: CustomerState, **given: Any) -> Any:
    """Call ``kernel`` with the state arrays its parameters name (``beliefs``,
    ``provider``, ...) and the rest given by keyword: arrays travel by name, so a
    reordered signature cannot wire the wrong array. A trailing underscore in a
    kernel's parameter (``story_evidence_``) names the same state array."""
    args = [
        given[name] if name in given else getattr(state, name.rstrip("_"))
        for name in _arguments(kernel)
    ]
    return kernel(*args)


def trust_of(
    state: CustomerState, ctx: Context, rows: np.ndarray, firms: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cognitive, affective and overall trust of customers ``rows`` in ``firms``.

    ``firms`` pairs with ``rows`` (one firm per row) or is a single firm; for
    every firm use :func:`trust_matrix`.
    """
    rows = np.asarray(rows, dtype=np.int64)
    pairs = np.broadcast_to(np.asarray(firms, dtype=np.int64), rows.shape)
    return run(
        kernels.trust_pairs, state, rows=rows, firms=np.ascontiguousarray(pairs),
        params=ctx.params,
    )  # fmt: skip


def trust_matrix(state: CustomerState, ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cognitive, affective and overall trust of every customer in every firm, (N, M) each."""
    return run(kernels.trust_all, state, params=ctx.params)


def _phase(
    kernel: Any, state: CustomerState, ledger: Ledger, ctx: Context, dice: Dice, **given: Any
) -> np.ndarray:
    """Run a kernel that adds to the ledger; returns what it added, (M, flows)."""
    run(
        kernel, state, firms=ctx.firms, params=ctx.params, key=dice.key, step=dice.step,
        part=ledger.part, **given,
    )  # fmt: skip
    return kernels.add_chunks(ledger.chunks, ledger.table)


def breach(state: CustomerState, ledger: Ledger, ctx: Context, dice: Dice) -> None:
    """7.1 Data breach: customers learn integrity 0 and lose a deposit; others may hear."""
    _phase(kernels.breach, state, ledger, ctx, dice)


def encounter(
    state: CustomerState,
    ledger: Ledger,
    ctx: Context,
    dice: Dice,
    script: np.ndarray = NO_SCRIPT,
) -> None:
    """7.2 Encounter: mistake (warn or exploit), delivery against the promise, failure.
    A hand case may script the draws: rows by lane (``kernels.NEED`` ... ``QUALITY``,
    quality itself in the last), one column per customer."""
    _phase(kernels.encounter, state, ledger, ctx, dice, script=script)


def care(state: CustomerState, ledger: Ledger, ctx: Context, dice: Dice) -> None:
    """7.3 Proactive care: a deposit and benevolence evidence 1 at half weight."""
    _phase(kernels.care, state, ledger, ctx, dice)


def talk(state: CustomerState, ledger: Ledger, ctx: Context, dice: Dice) -> None:
    """7.4 Word-of-mouth: listeners, customers or not, hear their neighbours' stories."""
    tellers = np.flatnonzero(state.story > 0) if ctx.graph["complete"] else NO_TELLERS
    _phase(kernels.listen, state, ledger, ctx, dice, tellers=tellers, **ctx.graph)


NO_TELLERS = np.zeros(0, dtype=np.int64)  # on a stored network, neighbours are the edges


def review(
    state: CustomerState, ledger: Ledger, accounts: Accounts, ctx: Context, dice: Dice
) -> None:
    """7.4 Every buyer may post a review, the likelier the more extreme its stars."""
    added = _phase(kernels.review, state, ledger, ctx, dice)
    accounts.add_reviews(added[:, COLUMN["new_reviews"]], added[:, COLUMN["new_stars"]])


def rating(accounts: Accounts, ctx: Context) -> np.ndarray:
    """Public rating per firm: Bayesian average over all reviews or the window."""
    rv = ctx.scenario.reviews
    count, star_sum = accounts.reviews(rv.window)
    return rules.bayesian_rating(star_sum, count, rv.prior_mean, rv.prior_weight)


def advertise(state: CustomerState, ctx: Context, dice: Dice) -> None:
    """7.5 This week's adverts make customers aware of the firm that pays for them."""
    run(
        kernels.advertise, state, firms=ctx.firms, params=ctx.params, key=dice.key,
        step=dice.step,
    )  # fmt: skip


def decide(
    state: CustomerState,
    ledger: Ledger,
    accounts: Accounts,
    ctx: Context,
    dice: Dice,
    script: np.ndarray = NO_SCRIPT,
) -> None:
    """7.5 Decisions: who considers the market, then a logit choice among known firms.
    A hand case may script the draws: rows ``kernels.CONSIDER`` and ``CHOICE``."""
    _phase(
        kernels.decide, state, ledger, ctx, dice, ratings=rating(accounts, ctx), script=script,
        **ctx.graph,
    )  # fmt: skip


def apply_choices(
    state: CustomerState, ledger: Ledger, rows: np.ndarray, chosen: np.ndarray
) -> None:
    """The moves people chose for their customers (ODD 8b), counted as in 7.5."""
    run(kernels.apply_choices, state, rows=rows, chosen=chosen, part=ledger.part)
    kernels.add_chunks(ledger.chunks, ledger.table)


def bookkeeping(
    state: CustomerState, ledger: Ledger, accounts: Accounts, ctx: Context, step: int
) -> np.ndarray:
    """7.6 Bank decay, forgetting, tenure, fixed costs, profit and NPV; returns profit."""
    sc, fp = ctx.scenario, ctx.firms
    run(kernels.settle, state, params=ctx.params)
    fixed = rules.fixed_costs(
        fp["protection_cost"], fp["data_protection"], ledger.customers_start,
        fp["ad_cost"], fp["advertising"], state.n,
    )  # fmt: skip
    ledger.costs += np.where(ctx.in_market, fixed, 0.0)  # a firm out of the market pays none
    profit = ledger.revenue - ledger.costs
    accounts.cumulative_profit += profit
    mk = sc.market
    accounts.npv += rules.discounted(profit, mk.discount_rate, step, mk.steps_per_year)
    return profit


def tally(state: CustomerState, ctx: Context) -> dict[str, np.ndarray]:
    """The customer sums behind the metrics (``metrics.Tallies``), per firm, in one pass:
    ``customers``, ``cohort_customers``, ``trust_sum``, ``cognitive_sum``,
    ``affective_sum``, ``promoters`` and ``detractors`` (expected NPS counts, ODD 7.7),
    ``reputation`` and ``awareness`` (means over all N)."""
    rows = layout.TALLY_ROWS
    chunks = np.zeros((layout.chunks(state.n), ctx.n_firms, len(rows)))
    run(kernels.tally, state, params=ctx.params, part=chunks.view(layout.TALLY)[..., 0])
    sums = kernels.add_chunks(chunks, np.zeros((ctx.n_firms, len(rows))))
    out = {name: sums[:, k] for k, name in enumerate(rows)}
    out["reputation"] = out["reputation"] / state.n  # means over all N
    out["awareness"] = out["awareness"] / state.n
    return out
