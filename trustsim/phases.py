"""One function per process step of the week (ODD section 3), each running its kernel.

Each phase reads the state as it was when the phase began (trust is computed
before anything is learned) and writes its results in place, so the order of
customers never matters. The loops over customers are the compiled kernels of
:mod:`trustsim.kernels`; this module hands them the state, the draws and the
ledger. Phases add this step's flows to the ledger and never touch the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trustsim import kernels, rules
from trustsim.config import Scenario
from trustsim.draws import BreachDraws, DecisionDraws, EncounterDraws
from trustsim.network import CompleteNetwork, Network
from trustsim.state import Accounts, CustomerState, Ledger, firm_table


@dataclass(frozen=True)
class Context:
    """What the phases need that does not change during a run."""

    scenario: Scenario
    firms: dict[str, np.ndarray]
    network: Network
    params: np.ndarray = field(init=False)  # one record of dtype kernels.PARAMS
    table: np.ndarray = field(init=False)  # the firm table as (M, K), for the kernels
    graph: tuple[np.ndarray, np.ndarray, np.ndarray, bool] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", kernels.params(self.scenario))
        object.__setattr__(self, "table", kernels.firm_matrix(self.firms))
        object.__setattr__(self, "graph", _graph(self.network))

    @classmethod
    def of(cls, scenario: Scenario, network: Network) -> Context:
        """The context of ``scenario`` on ``network`` (the firm table read from it)."""
        return cls(scenario, firm_table(scenario), network)

    @property
    def n_firms(self) -> int:
        """The number of firms M."""
        return len(self.scenario.firms)

    @property
    def omega(self) -> float:
        """The weight of cognitive trust in overall trust at this market's risk (ODD 4)."""
        return float(self.params[0]["omega"])


def _graph(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """The network as the decision kernel reads it: CSR arrays (int64, so one compiled
    version serves every network), degrees, and whether it is the implicit complete one."""
    if isinstance(net, CompleteNetwork):
        empty = np.zeros(1, dtype=np.int64)
        return empty, empty, net.degree, True
    adjacency = net.adjacency
    indptr, indices = adjacency.indptr.astype(np.int64), adjacency.indices.astype(np.int64)
    return indptr, indices, net.degree.astype(np.int64), False


def trust_of(
    state: CustomerState, ctx: Context, rows: np.ndarray, firms: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cognitive, affective and overall trust of customers ``rows`` in ``firms``.

    ``firms`` pairs with ``rows`` (one firm per row) or is a single firm; for
    every firm use :func:`trust_matrix`.
    """
    rows = np.asarray(rows, dtype=np.int64)
    pairs = np.broadcast_to(np.asarray(firms, dtype=np.int64), rows.shape)
    return kernels.trust_pairs(
        state.beliefs, state.balance, state.identification, rows, np.ascontiguousarray(pairs),
        ctx.params,
    )  # fmt: skip


def trust_matrix(state: CustomerState, ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cognitive, affective and overall trust of every customer in every firm, (N, M) each."""
    return kernels.trust_all(state.beliefs, state.balance, state.identification, ctx.params)


def breach(state: CustomerState, ledger: Ledger, ctx: Context, draws: BreachDraws) -> None:
    """7.1 Data breach: customers learn integrity 0 and lose a deposit; others may hear."""
    kernels.breach(
        state.beliefs, state.balance, state.identification, state.provider, state.breached,
        ctx.table, ctx.params, draws.u_breach, draws.u_news, ledger.breaches, ledger.costs,
    )  # fmt: skip


def encounter(state: CustomerState, ledger: Ledger, ctx: Context, draws: EncounterDraws) -> None:
    """7.2 Encounter: mistake (warn or exploit), delivery against the promise, failure."""
    st, d, led = state, draws, ledger
    kernels.encounter(
        (st.beliefs, st.balance, st.identification, st.provider, st.tenure),
        (
            st.warned, st.exploited, st.discovered, st.failed, st.complained, st.recovered,
            st.stars, st.story, st.story_firm, st.story_evidence,
        ),
        ctx.table,
        ctx.params,
        (
            d.u_need, d.u_mistake, d.u_warn, d.u_discover, d.u_complain, d.u_recover,
            d.u_story, d.quality,
        ),
        (
            led.revenue, led.costs, led.encounters, led.satisfied, led.warnings,
            led.exploited, led.discovered, led.complaints, led.recoveries,
        ),
    )  # fmt: skip


def care(state: CustomerState, ledger: Ledger, ctx: Context, u_care: np.ndarray) -> None:
    """7.3 Proactive care: a deposit and benevolence evidence 1 at half weight."""
    kernels.care(
        state.beliefs, state.balance, state.identification, state.provider, ctx.table,
        ctx.params, u_care, ledger.costs,
    )  # fmt: skip


def talk(
    state: CustomerState,
    ledger: Ledger,
    accounts: Accounts,
    ctx: Context,
    rng: np.random.Generator,
    u_review: np.ndarray,
) -> None:
    """7.4 Word-of-mouth to neighbours (customers or not) and online reviews."""
    st = state
    p_tell = kernels.talk_probability(st.story, st.talkativeness, ctx.params)
    tellers, hearers = ctx.network.contacts(rng, p_tell)
    kernels.listen(
        st.beliefs, st.balance, st.identification, st.aware, st.story, st.story_firm,
        st.story_evidence, tellers, hearers, ctx.params,
        (ledger.stories_positive, ledger.stories_negative, ledger.wom_positive,
         ledger.wom_negative),
    )  # fmt: skip
    review(state, ledger, accounts, ctx, u_review)


def review(
    state: CustomerState, ledger: Ledger, accounts: Accounts, ctx: Context, u_review: np.ndarray
) -> None:
    """7.4 Every buyer may post a review, the likelier the more extreme its stars."""
    by_stars = kernels.review(state.stars, state.served, ctx.params, u_review, ctx.n_firms)
    count, star_sum = by_stars.sum(axis=1), by_stars @ STARS
    ledger.new_reviews += count
    ledger.new_stars += star_sum
    ledger.by_stars[:] += by_stars.T
    accounts.add_reviews(count, star_sum)


STARS = np.arange(1.0, 6.0)


def rating(accounts: Accounts, ctx: Context) -> np.ndarray:
    """Public rating per firm: Bayesian average over all reviews or the window."""
    rv = ctx.scenario.reviews
    count, star_sum = accounts.reviews(rv.window)
    return rules.bayesian_rating(star_sum, count, rv.prior_mean, rv.prior_weight)


def advertise(state: CustomerState, ctx: Context, u_ad: np.ndarray) -> None:
    """7.5 This week's adverts make customers aware of the firm that pays for them."""
    kernels.advertise(state.aware, ctx.table, ctx.params, u_ad)


def decide(
    state: CustomerState, ledger: Ledger, accounts: Accounts, ctx: Context, draws: DecisionDraws
) -> None:
    """7.5 Decisions: who considers the market, then a logit choice among known firms."""
    st = state
    kernels.decide(
        (st.beliefs, st.balance, st.identification, st.provider, st.tenure, st.cohort,
         st.aware, st.played),
        (st.warned, st.failed, st.left),
        ctx.graph,
        ctx.table,
        rating(accounts, ctx),
        ctx.params,
        draws.u_consider,
        draws.u_choice,
        ledger.searches,
        (ledger.churns, ledger.acquisitions, ledger.entries, ledger.exits),
    )  # fmt: skip


def bookkeeping(
    state: CustomerState, ledger: Ledger, accounts: Accounts, ctx: Context, step: int
) -> np.ndarray:
    """7.6 Bank decay, forgetting, tenure, fixed costs, profit and NPV; returns profit."""
    sc, fp = ctx.scenario, ctx.firms
    kernels.settle(
        state.beliefs, state.balance, state.propensity, state.provider, state.tenure, ctx.params
    )
    ledger.costs += (
        fp["protection_cost"] * fp["data_protection"] * ledger.customers_start
        + fp["ad_cost"] * fp["advertising"] * state.n
    )
    profit = ledger.revenue - ledger.costs
    accounts.cumulative_profit += profit
    years = step / sc.market.steps_per_year
    accounts.npv += rules.discounted(profit, sc.market.discount_rate, years)
    return profit


def tally(state: CustomerState, ctx: Context) -> dict[str, np.ndarray]:
    """The customer sums behind the metrics (``metrics.Tallies``), per firm, in one pass:
    ``customers``, ``cohort_customers``, ``trust_sum``, ``cognitive_sum``,
    ``affective_sum``, ``promoters`` and ``detractors`` (expected NPS counts, ODD 7.7),
    ``reputation`` and ``awareness`` (means over all N)."""
    sums = kernels.tally(
        state.beliefs, state.balance, state.identification, state.provider, state.cohort,
        state.aware, ctx.params,
    )  # fmt: skip
    return dict(zip(kernels.TALLY_ROWS, sums, strict=True))
