"""One vectorised function per process step of the week (ODD section 3).

Each phase reads the state as it was when the phase began (trust is computed
once, up front) and writes its results at the end, so the order of customers
never matters. Phases update the arrays in place, add this step's flows to the
ledger, and never touch the disk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustsim import rules
from trustsim.config import Scenario
from trustsim.draws import BreachDraws, DecisionDraws, EncounterDraws
from trustsim.network import Network
from trustsim.rules import BENEVOLENCE, INTEGRITY
from trustsim.state import NO_PROVIDER, Accounts, CustomerState, Ledger, firm_table


@dataclass(frozen=True)
class Context:
    """What the phases need that does not change during a run."""

    scenario: Scenario
    firms: dict[str, np.ndarray]
    network: Network

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
        sc = self.scenario
        return rules.cognitive_weight(sc.market.risk, sc.trust.omega0)


def trust_of(
    state: CustomerState, ctx: Context, rows: np.ndarray, firms: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cognitive, affective and overall trust of customers ``rows`` in ``firms``.

    ``firms`` pairs with ``rows`` (one firm per row) or is a single firm; for
    every firm use :func:`trust_matrix`.
    """
    sc, m = ctx.scenario, ctx.n_firms
    # one flat index into the (N * M) pairs: much faster than pair indexing
    pair = rows * m + firms
    beliefs = state.beliefs.reshape(-1, 3).take(pair, axis=0)
    cognitive = rules.power_mean(beliefs, sc.trust.weakest_link)
    affect = rules.affective(
        state.balance.ravel().take(pair),
        state.identification.ravel().take(pair),
        sc.bank.scale,
        sc.trust.w_id,
    )
    return cognitive, affect, rules.overall(cognitive, affect, ctx.omega)


def trust_matrix(
    state: CustomerState, ctx: Context, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cognitive, affective and overall trust of customers ``rows`` (all) in every firm."""
    sel = slice(None) if rows is None else rows
    sc = ctx.scenario
    cognitive = rules.power_mean(state.beliefs[sel], sc.trust.weakest_link)
    affect = rules.affective(
        state.balance[sel], state.identification[sel], sc.bank.scale, sc.trust.w_id
    )
    return cognitive, affect, rules.overall(cognitive, affect, ctx.omega)


def _count(firms: np.ndarray, m: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(firms, weights=weights, minlength=m).astype(float)


def breach(state: CustomerState, ledger: Ledger, ctx: Context, draws: BreachDraws) -> None:
    """7.1 Data breach: customers learn integrity 0 and lose a deposit; others may hear."""
    sc, firms = ctx.scenario, ctx.firms
    eta_up, eta_down, buffer = sc.trust.eta_up, sc.trust.eta_down, sc.trust.buffer
    hit = draws.u_breach < sc.market.breach_rate * (1.0 - firms["data_protection"])
    for f in map(int, np.flatnonzero(hit)):
        is_customer = state.provider == f
        hears = ~is_customer & (draws.u_news[:, f] < sc.news.reach)
        for rows, weight in (
            (np.flatnonzero(is_customer), 1.0),
            (np.flatnonzero(hears), sc.news.weight),
        ):
            _, _, trust = trust_of(state, ctx, rows, f)
            down = rules.buffered(eta_down, trust, buffer)
            integrity = state.beliefs[rows, f, INTEGRITY]
            state.beliefs[rows, f, INTEGRITY] = rules.learn(
                integrity, 0.0, eta_up, down, weight=weight
            )
        customers = np.flatnonzero(is_customer)
        state.breached[customers] = True
        state.balance[customers, f] = rules.withdraw(
            state.balance[customers, f], sc.bank.d_breach, sc.bank.loss_aversion
        )
        ledger.breaches[f] += 1
        ledger.costs[f] += firms["breach_cost"][f] * customers.size


def encounter(state: CustomerState, ledger: Ledger, ctx: Context, draws: EncounterDraws) -> None:
    """7.2 Encounter: mistake (warn or exploit), delivery against the promise, failure."""
    sc, fp, m = ctx.scenario, ctx.firms, ctx.n_firms
    mk, bank, tr = sc.market, sc.bank, sc.trust
    rows = np.flatnonzero(state.provider >= 0)
    f = state.provider[rows]
    cognitive, _, trust = trust_of(state, ctx, rows, f)
    need = rules.need_probability(trust, mk.need_rate, mk.loyalty)
    buys = draws.u_need[rows] < need
    rows, f, cognitive, trust = rows[buys], f[buys], cognitive[buys], trust[buys]
    up, down, la = tr.eta_up, rules.buffered(tr.eta_down, trust, tr.buffer), bank.loss_aversion

    pair = rows * m + f  # flat index of (customer, provider) pairs
    beliefs, balances = state.beliefs.reshape(-1, 3), state.balance.reshape(-1)
    ability, benevolence, integrity = beliefs.take(pair, axis=0).T.copy()
    balance = balances.take(pair)

    def good(event: np.ndarray, aspects: list[np.ndarray], deposit: float) -> None:
        i = np.flatnonzero(event)
        for aspect in aspects:
            aspect[i] = rules.learn(aspect[i], 1.0, up, down[i])
        balance[i] = rules.deposit(balance[i], deposit, cognitive[i])

    def bad(event: np.ndarray, aspects: list[np.ndarray], withdrawal: float) -> None:
        i = np.flatnonzero(event)
        for aspect in aspects:
            aspect[i] = rules.learn(aspect[i], 0.0, up, down[i])
        balance[i] = rules.withdraw(balance[i], withdrawal, la)

    # 1. a costly mistake: warn, or exploit (and maybe be found out)
    mistake = draws.u_mistake[rows] < mk.mistake_rate
    warnable = rules.warnable(
        fp["warn_target"][f], trust, state.tenure[rows], fp["warn_min_trust"][f],
        fp["warn_min_tenure"][f],
    )  # fmt: skip
    warn = mistake & warnable & (draws.u_warn[rows] < fp["warn_rate"][f])
    exploit = mistake & ~warn
    found = exploit & (draws.u_discover[rows] < mk.discovery)
    good(warn, [benevolence], bank.d_warn)
    bad(found, [benevolence, integrity], bank.d_exploit)

    # 2. delivery against the promise, "plus a little extra"
    quality = draws.quality[rows]
    promise = fp["promise"][f]
    ability = rules.learn(ability, quality, up, down)
    kept = quality >= promise - mk.tolerance
    extra = quality >= promise + mk.tolerance
    integrity = rules.learn(integrity, kept.astype(float), up, down)
    good(extra, [], bank.d_extra)
    bad(~kept, [], bank.d_broken)

    # 3. failure, complaint and recovery
    failed = quality < mk.failure_threshold
    complain = failed & (draws.u_complain[rows] < mk.complaint_rate)
    fixed = complain & (draws.u_recover[rows] < fp["recovery"][f])
    ignored = complain & ~fixed
    good(fixed, [benevolence], bank.d_recovery)
    bad(ignored, [benevolence], bank.d_ignored)

    beliefs[pair] = np.stack([ability, benevolence, integrity], axis=1)
    balances[pair] = balance

    rv = sc.reviews
    salient = np.select(
        [found, ignored, warn, fixed],
        [rules.EXPLOITED, rules.IGNORED, rules.WARNED, rules.RECOVERED],
        rules.NO_STORY,
    )
    satisfaction = rules.experienced_satisfaction(quality, promise, rv.disconfirmation)
    stars = rules.review_stars(
        salient, failed, rules.experience_stars(satisfaction, rv.neutral, rv.star_slope)
    )
    story = rules.story_of(salient, stars, draws.u_story[rows], sc.wom.p_story)
    state.stars[rows] = stars
    state.story[rows] = story
    state.story_firm[rows] = np.where(story > 0, f, NO_PROVIDER)
    state.story_evidence[rows] = rules.story_evidence(story, quality)
    for name, flags in (
        ("warned", warn),
        ("exploited", exploit),
        ("discovered", found),
        ("failed", failed),
        ("complained", complain),
        ("recovered", fixed),
    ):
        getattr(state, name)[rows] = flags

    paid = fp["price"][f] + exploit * fp["mistake_revenue"][f]
    cost = fp["unit_cost"][f] + fixed * fp["recovery_cost"][f] + warn * fp["warn_cost"][f]
    ledger.revenue += _count(f, m, paid)
    ledger.costs += _count(f, m, cost)
    ledger.encounters += _count(f, m)
    ledger.satisfied += _count(f, m, kept)
    ledger.warnings += _count(f, m, warn)
    ledger.exploited += _count(f, m, exploit)
    ledger.discovered += _count(f, m, found)
    ledger.complaints += _count(f, m, complain)
    ledger.recoveries += _count(f, m, fixed)


def care(state: CustomerState, ledger: Ledger, ctx: Context, u_care: np.ndarray) -> None:
    """7.3 Proactive care: a deposit and benevolence evidence 1 at half weight."""
    sc, fp = ctx.scenario, ctx.firms
    rows = np.flatnonzero(state.provider >= 0)
    f = state.provider[rows]
    contacted = u_care[rows] < fp["care_rate"][f]
    rows, f = rows[contacted], f[contacted]
    cognitive, _, _ = trust_of(state, ctx, rows, f)
    state.balance[rows, f] = rules.deposit(state.balance[rows, f], sc.bank.d_care, cognitive)
    state.beliefs[rows, f, BENEVOLENCE] = rules.learn(
        state.beliefs[rows, f, BENEVOLENCE],
        1.0,
        sc.trust.eta_up,
        sc.trust.eta_down,
        weight=rules.CARE_WEIGHT,
    )
    ledger.costs += _count(f, ctx.n_firms, fp["care_cost"][f])


def talk(
    state: CustomerState,
    ledger: Ledger,
    accounts: Accounts,
    ctx: Context,
    rng: np.random.Generator,
    u_review: np.ndarray,
) -> None:
    """7.4 Word-of-mouth to neighbours (customers or not) and online reviews."""
    sc, m = ctx.scenario, ctx.n_firms
    tellers = state.story > 0
    negative = state.story >= rules.FIRST_NEGATIVE
    p_tell = np.where(negative, sc.wom.p_negative, sc.wom.p_positive) * state.talkativeness
    src, dst = ctx.network.contacts(rng, np.where(tellers, np.minimum(p_tell, 1.0), 0.0))

    told = state.story_firm[tellers]
    ledger.stories_negative += _count(told, m, negative[tellers])
    ledger.stories_positive += _count(told, m, ~negative[tellers])
    firm = state.story_firm[src]
    ledger.wom_negative += _count(firm, m, negative[src])
    ledger.wom_positive += _count(firm, m, ~negative[src])
    aspect = rules.STORY_ASPECT[state.story[src]]
    key = (dst * m + firm) * 3 + aspect
    keys, inverse = np.unique(key, return_inverse=True)
    k = np.bincount(inverse)
    mean_evidence = np.bincount(inverse, weights=state.story_evidence[src]) / k
    hearer, about, asp = keys // (3 * m), (keys // 3) % m, keys % 3
    _, _, trust = trust_of(state, ctx, hearer, about)
    down = rules.buffered(sc.trust.eta_down, trust, sc.trust.buffer)
    state.beliefs[hearer, about, asp] = rules.learn(
        state.beliefs[hearer, about, asp],
        mean_evidence,
        sc.trust.eta_up,
        down,
        weight=sc.wom.weight,
        k=k,
    )
    state.aware[hearer, about] = True  # hearing of a firm puts it in the consideration set
    review(state, ledger, accounts, ctx, u_review)


def review(
    state: CustomerState, ledger: Ledger, accounts: Accounts, ctx: Context, u_review: np.ndarray
) -> None:
    """7.4 Every buyer may post a review, the likelier the more extreme its stars."""
    rv, m = ctx.scenario.reviews, ctx.n_firms
    by_stars = np.zeros((m, 5))
    if rv.enabled:
        p_post = rules.posting_probability(state.stars, rv.p_post, rv.extremity, rv.negativity)
        writers = np.flatnonzero((state.stars > 0) & (u_review < p_post))
        key = state.served[writers] * 5 + state.stars[writers].astype(np.int64) - 1
        by_stars = np.bincount(key, minlength=m * 5).reshape(m, 5).astype(float)
    count, star_sum = by_stars.sum(axis=1), by_stars @ np.arange(1.0, 6.0)
    ledger.new_reviews += count
    ledger.new_stars += star_sum
    for k in range(5):
        getattr(ledger, f"stars_{k + 1}")[:] += by_stars[:, k]
    accounts.add_reviews(count, star_sum)


def rating(accounts: Accounts, ctx: Context) -> np.ndarray:
    """Public rating per firm: Bayesian average over all reviews or the window."""
    rv = ctx.scenario.reviews
    count, star_sum = accounts.reviews(rv.window)
    return rules.bayesian_rating(star_sum, count, rv.prior_mean, rv.prior_weight)


def advertise(state: CustomerState, ctx: Context, u_ad: np.ndarray) -> None:
    """7.5 This week's adverts make customers aware of the firm that pays for them."""
    state.aware |= u_ad < ctx.scenario.market.ad_reach * ctx.firms["advertising"]


def decide(
    state: CustomerState, ledger: Ledger, accounts: Accounts, ctx: Context, draws: DecisionDraws
) -> None:
    """7.5 Decisions: who considers the market, then a logit choice among known firms."""
    sc, fp, m = ctx.scenario, ctx.firms, ctx.n_firms
    mk = sc.market
    provider = state.provider.copy()
    has = provider >= 0
    degree = np.maximum(ctx.network.degree, 1)
    adopters_share = ctx.network.adopter_counts(has) / degree
    hazard = np.where(
        has,
        rules.search_hazard(mk, state.warned, state.failed),
        rules.entry_hazard(
            mk.p_ad, mk.ad_effect, float(fp["advertising"].sum()), mk.q_wom, adopters_share
        ),
    )
    considers = draws.u_consider < np.clip(hazard, 0.0, 1.0)
    rows = np.flatnonzero(considers & state.aware.any(axis=1))  # nobody picks an unknown firm

    _, _, trust = trust_matrix(state, ctx, rows)
    counts = ctx.network.neighbour_counts(provider, m, rows)
    current = provider[rows]
    stars = rating(accounts, ctx)
    utility = rules.utility(
        mk, trust, counts / degree[rows, None], stars - stars.mean(), fp["price"]
    )
    stay = np.flatnonzero(current >= 0)
    utility[stay, current[stay]] += mk.switching_cost
    utility = np.where(state.aware[rows], utility, -np.inf)
    if mk.outside_option:
        utility = np.column_stack([utility, np.full(rows.size, mk.u_out)])
    choice = rules.pick(rules.logit_probabilities(utility, mk.temperature), draws.u_choice[rows])
    chosen = np.where(choice < m, choice, NO_PROVIDER)

    moved = chosen != current
    left = moved & (current >= 0)
    ledger.churns += _count(current[left], m)
    ledger.acquisitions += _count(chosen[moved & (chosen >= 0)], m)
    ledger.entries += _count(chosen[(current < 0) & (chosen >= 0)], m)
    ledger.exits += _count(current[(current >= 0) & (chosen < 0)], m)
    state.left[rows[left]] = True
    state.provider[rows] = chosen
    state.tenure[rows[moved]] = 0
    state.cohort[rows[moved]] = False


def bookkeeping(
    state: CustomerState, ledger: Ledger, accounts: Accounts, ctx: Context, step: int
) -> np.ndarray:
    """7.6 Bank decay, forgetting, tenure, fixed costs, profit and NPV; returns profit."""
    sc, fp = ctx.scenario, ctx.firms
    state.balance *= 1.0 - sc.bank.decay
    if sc.trust.forgetting > 0:
        prior = state.propensity[:, None, None]
        state.beliefs += sc.trust.forgetting * (prior - state.beliefs)
    state.tenure[state.provider >= 0] += 1
    ledger.costs += (
        fp["protection_cost"] * fp["data_protection"] * ledger.customers_start
        + fp["ad_cost"] * fp["advertising"] * state.n
    )
    profit = ledger.revenue - ledger.costs
    accounts.cumulative_profit += profit
    years = step / sc.market.steps_per_year
    accounts.npv += rules.discounted(profit, sc.market.discount_rate, years)
    return profit
