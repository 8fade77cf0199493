"""Compiled kernels of the fast engine: one loop over customers per phase (ODD 7).

Each kernel reads like the submodel it implements, customer by customer (and
neighbour by neighbour), and calls the rules of :mod:`trustsim.rules` compiled
by numba; the reference calls the same rules as plain Python. The random
numbers come in whole arrays drawn before the phase (:mod:`trustsim.draws`),
so both engines consume the same draws and agree to rounding.

Scenario scalars reach the kernels as a :class:`Params` named tuple and firm
parameters as one (M, K) table whose columns are named below. Kernels are
compiled once and cached on disk (``cache=True``): the first run on a machine
compiles them, later processes load them.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from trustsim import rules
from trustsim.config import Scenario
from trustsim.state import NO_PROVIDER


def compiled(func: Any) -> Any:
    """A rule or kernel compiled by numba, cached on disk."""
    return njit(cache=True, nogil=True, error_model="numpy")(func)


# the rules, compiled: the same source the reference runs as Python
cognitive_trust = compiled(rules.cognitive_trust)
affective = compiled(rules.affective)
overall = compiled(rules.overall)
learn = compiled(rules.learn)
buffered = compiled(rules.buffered)
deposit = compiled(rules.deposit)
withdraw = compiled(rules.withdraw)
warnable = compiled(rules.warnable)
need_probability = compiled(rules.need_probability)
experienced_satisfaction = compiled(rules.experienced_satisfaction)
experience_stars = compiled(rules.experience_stars)
review_stars = compiled(rules.review_stars)
story_of = compiled(rules.story_of)
story_evidence = compiled(rules.story_evidence)
posting_probability = compiled(rules.posting_probability)
search_hazard = compiled(rules.search_hazard)
entry_hazard = compiled(rules.entry_hazard)
utility = compiled(rules.utility)
logit_pick = compiled(rules.logit_pick)
nps_shares = compiled(rules.nps_shares)

ABILITY, BENEVOLENCE, INTEGRITY = rules.ABILITY, rules.BENEVOLENCE, rules.INTEGRITY
STORY_ASPECT = rules.STORY_ASPECT
NO_STORY, RECOVERED, WARNED = rules.NO_STORY, rules.RECOVERED, rules.WARNED
IGNORED, EXPLOITED, FIRST_NEGATIVE = rules.IGNORED, rules.EXPLOITED, rules.FIRST_NEGATIVE
CARE_WEIGHT = rules.CARE_WEIGHT

# columns of the firm table (state.firm_table's arrays, stacked)
FIRM_FIELDS = (
    "quality",
    "promise",
    "warn_rate",
    "warn_target",
    "warn_min_trust",
    "warn_min_tenure",
    "recovery",
    "data_protection",
    "care_rate",
    "advertising",
    "price",
    "unit_cost",
    "mistake_revenue",
    "warn_cost",
    "recovery_cost",
    "care_cost",
    "breach_cost",
)
(
    QUALITY,
    PROMISE,
    WARN_RATE,
    WARN_TARGET,
    WARN_MIN_TRUST,
    WARN_MIN_TENURE,
    RECOVERY,
    DATA_PROTECTION,
    CARE_RATE,
    ADVERTISING,
    PRICE,
    UNIT_COST,
    MISTAKE_REVENUE,
    WARN_COST,
    RECOVERY_COST,
    CARE_COST,
    BREACH_COST,
) = range(len(FIRM_FIELDS))


def firm_matrix(table: dict[str, np.ndarray]) -> np.ndarray:
    """The firm table as one (M, K) array, columns in :data:`FIRM_FIELDS` order."""
    return np.ascontiguousarray(np.column_stack([table[name] for name in FIRM_FIELDS]))


class Params(NamedTuple):
    """The scenario's scalars the kernels read (ODD 8.1), as plain floats."""

    rho: float
    eta_up: float
    eta_down: float
    buffer: float
    omega: float
    w_id: float
    forgetting: float
    scale: float
    loss_aversion: float
    decay: float
    d_warn: float
    d_extra: float
    d_recovery: float
    d_care: float
    d_broken: float
    d_exploit: float
    d_ignored: float
    d_breach: float
    need_rate: float
    loyalty: float
    mistake_rate: float
    discovery: float
    tolerance: float
    failure_threshold: float
    complaint_rate: float
    breach_rate: float
    review_rate: float
    warn_search: float
    failure_search: float
    p_ad: float
    q_wom: float
    ad_effect: float
    ad_reach: float
    u_out: float
    outside_option: bool
    beta_trust: float
    beta_proof: float
    beta_rating: float
    beta_popularity: float
    beta_price: float
    reference_price: float
    switching_cost: float
    temperature: float
    p_positive: float
    p_negative: float
    p_story: float
    wom_weight: float
    news_reach: float
    news_weight: float
    reviews_enabled: bool
    p_post: float
    extremity: float
    negativity: float
    disconfirmation: float
    neutral: float
    star_slope: float
    nps_slope: float
    nps_shift: float
    nps_noise: float


# The kernels take the parameters as one record of this dtype, not as the namedtuple:
# numba reads a record array argument in 0.3 microseconds and a 57-field namedtuple in
# 3.8, and a step makes a dozen kernel calls (the fixed cost of a step at small N).
PARAMS = np.dtype(
    [
        (name, np.bool_ if kind == "bool" else np.float64)
        for name, kind in Params.__annotations__.items()
    ]
)


def params(scenario: Scenario) -> np.ndarray:
    """The kernels' view of a scenario: one record of dtype :data:`PARAMS` (a kernel
    reads it as ``p = params[0]``, then ``p.rho``, ...)."""
    tr, bank, mk = scenario.trust, scenario.bank, scenario.market
    wom, news, rv, survey = scenario.wom, scenario.news, scenario.reviews, scenario.survey
    proof, rating, popularity = rules.social_weights(
        mk.social_proof, mk.beta_proof, mk.beta_rating, mk.beta_popularity
    )
    values = Params(
        rho=tr.weakest_link, eta_up=tr.eta_up, eta_down=tr.eta_down, buffer=tr.buffer,
        omega=rules.cognitive_weight(mk.risk, tr.omega0), w_id=tr.w_id,
        forgetting=tr.forgetting, scale=bank.scale, loss_aversion=bank.loss_aversion,
        decay=bank.decay, d_warn=bank.d_warn, d_extra=bank.d_extra,
        d_recovery=bank.d_recovery, d_care=bank.d_care, d_broken=bank.d_broken,
        d_exploit=bank.d_exploit, d_ignored=bank.d_ignored, d_breach=bank.d_breach,
        need_rate=mk.need_rate, loyalty=mk.loyalty, mistake_rate=mk.mistake_rate,
        discovery=mk.discovery, tolerance=mk.tolerance,
        failure_threshold=mk.failure_threshold, complaint_rate=mk.complaint_rate,
        breach_rate=mk.breach_rate, review_rate=mk.review_rate, warn_search=mk.warn_search,
        failure_search=mk.failure_search, p_ad=mk.p_ad, q_wom=mk.q_wom,
        ad_effect=mk.ad_effect, ad_reach=mk.ad_reach, u_out=mk.u_out,
        outside_option=mk.outside_option, beta_trust=mk.beta_trust,
        beta_proof=proof, beta_rating=rating, beta_popularity=popularity,
        beta_price=mk.beta_price,
        reference_price=mk.reference_price, switching_cost=mk.switching_cost,
        temperature=mk.temperature, p_positive=wom.p_positive, p_negative=wom.p_negative,
        p_story=wom.p_story, wom_weight=wom.weight, news_reach=news.reach,
        news_weight=news.weight, reviews_enabled=rv.enabled, p_post=rv.p_post,
        extremity=rv.extremity, negativity=rv.negativity,
        disconfirmation=rv.disconfirmation, neutral=rv.neutral, star_slope=rv.star_slope,
        nps_slope=survey.nps_slope, nps_shift=survey.nps_shift, nps_noise=survey.nps_noise,
    )  # fmt: skip
    return np.array([tuple(values)], dtype=PARAMS)


# --------------------------------------------------------------------------- trust (ODD 4)


@compiled
def trust_in(
    beliefs: np.ndarray, balance: np.ndarray, identification: np.ndarray, i: int, f: int, p: Params
) -> tuple[float, float, float]:
    """Cognitive, affective and overall trust of customer ``i`` in firm ``f``."""
    c = cognitive_trust(beliefs[i, f, 0], beliefs[i, f, 1], beliefs[i, f, 2], p.rho)
    a = affective(balance[i, f], identification[i, f], p.scale, p.w_id)
    return c, a, overall(c, a, p.omega)


@compiled
def trust_pairs(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    rows: np.ndarray,
    firms: np.ndarray,
    params: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """C, F and T of customer ``rows[k]`` in firm ``firms[k]``, for every k."""
    p = params[0]
    size = rows.size
    c, a, t = np.empty(size), np.empty(size), np.empty(size)
    for k in range(size):
        c[k], a[k], t[k] = trust_in(beliefs, balance, identification, rows[k], firms[k], p)
    return c, a, t


@compiled
def trust_all(
    beliefs: np.ndarray, balance: np.ndarray, identification: np.ndarray, params: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """C, F and T of every customer in every firm, each (N, M)."""
    p = params[0]
    n, m = balance.shape
    c, a, t = np.empty((n, m)), np.empty((n, m)), np.empty((n, m))
    for i in range(n):
        for f in range(m):
            c[i, f], a[i, f], t[i, f] = trust_in(beliefs, balance, identification, i, f, p)
    return c, a, t


# --------------------------------------------------------------------------- 7.1 breach


@compiled
def breach(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    provider: np.ndarray,
    breached: np.ndarray,
    firm: np.ndarray,
    params: np.ndarray,
    u_breach: np.ndarray,
    u_news: np.ndarray,
    breaches: np.ndarray,
    costs: np.ndarray,
) -> None:
    """A breached firm's customers learn integrity 0 and lose a deposit; others may hear."""
    p = params[0]
    n = provider.size
    for f in range(firm.shape[0]):
        if not u_breach[f] < p.breach_rate * (1.0 - firm[f, DATA_PROTECTION]):
            continue
        hit = 0
        for i in range(n):
            customer = provider[i] == f
            if not customer and not u_news[i, f] < p.news_reach:
                continue
            weight = 1.0 if customer else p.news_weight
            _, _, t = trust_in(beliefs, balance, identification, i, f, p)
            down = buffered(p.eta_down, t, p.buffer)
            beliefs[i, f, INTEGRITY] = learn(beliefs[i, f, INTEGRITY], 0.0, p.eta_up, down, weight)
            if customer:
                breached[i] = True
                balance[i, f] = withdraw(balance[i, f], p.d_breach, p.loss_aversion)
                hit += 1
        breaches[f] += 1
        costs[f] += firm[f, BREACH_COST] * hit


# --------------------------------------------------------------------------- 7.2 encounter


@compiled
def encounter(
    state: tuple[np.ndarray, ...],
    events: tuple[np.ndarray, ...],
    firm: np.ndarray,
    params: np.ndarray,
    draws: tuple[np.ndarray, ...],
    ledger: tuple[np.ndarray, ...],
) -> None:
    """Each customer with a need buys once: a mistake (warned, or exploited and maybe
    found out), delivery against the promise, failure, complaint and recovery."""
    p = params[0]
    beliefs, balance, identification, provider, tenure = state
    warned, exploited, discovered, failed, complained, recovered = events[:6]
    stars, story, story_firm, evidence = events[6:]
    u_need, u_mistake, u_warn, u_discover, u_complain, u_recover, u_story, quality = draws
    revenue, costs, encounters, satisfied, warnings, n_exploited, n_discovered = ledger[:7]
    complaints, recoveries = ledger[7:]
    la, up = p.loss_aversion, p.eta_up
    for i in range(provider.size):
        f = provider[i]
        if f < 0:
            continue
        c, _, t = trust_in(beliefs, balance, identification, i, f, p)
        if not u_need[i] < need_probability(t, p.need_rate, p.loyalty):
            continue
        down = buffered(p.eta_down, t, p.buffer)
        a, b, g, e = beliefs[i, f, 0], beliefs[i, f, 1], beliefs[i, f, 2], balance[i, f]

        # 1. a costly mistake: warn, or exploit (and maybe be found out)
        warn = exploit = found = False
        if u_mistake[i] < p.mistake_rate:
            target, min_trust = firm[f, WARN_TARGET], firm[f, WARN_MIN_TRUST]
            warn = warnable(target, t, tenure[i], min_trust, firm[f, WARN_MIN_TENURE]) and (
                u_warn[i] < firm[f, WARN_RATE]
            )
            exploit = not warn
            found = exploit and u_discover[i] < p.discovery
        if warn:
            b = learn(b, 1.0, up, down)
            e = deposit(e, p.d_warn, c)
        if found:
            b = learn(b, 0.0, up, down)
            g = learn(g, 0.0, up, down)
            e = withdraw(e, p.d_exploit, la)

        # 2. delivery against the promise, "plus a little extra"
        y, promise = quality[i], firm[f, PROMISE]
        a = learn(a, y, up, down)
        kept = y >= promise - p.tolerance
        g = learn(g, 1.0 if kept else 0.0, up, down)
        if y >= promise + p.tolerance:
            e = deposit(e, p.d_extra, c)
        if not kept:
            e = withdraw(e, p.d_broken, la)

        # 3. failure, complaint and recovery
        fail = y < p.failure_threshold
        complain = fail and u_complain[i] < p.complaint_rate
        fixed = complain and u_recover[i] < firm[f, RECOVERY]
        ignored = complain and not fixed
        if fixed:
            b = learn(b, 1.0, up, down)
            e = deposit(e, p.d_recovery, c)
        if ignored:
            b = learn(b, 0.0, up, down)
            e = withdraw(e, p.d_ignored, la)
        beliefs[i, f, 0], beliefs[i, f, 1], beliefs[i, f, 2], balance[i, f] = a, b, g, e

        # what there is to tell and to review
        salient = NO_STORY
        if found:
            salient = EXPLOITED
        elif ignored:
            salient = IGNORED
        elif warn:
            salient = WARNED
        elif fixed:
            salient = RECOVERED
        felt = experienced_satisfaction(y, promise, p.disconfirmation)
        given = review_stars(salient, fail, experience_stars(felt, p.neutral, p.star_slope))
        told = story_of(salient, given, u_story[i], p.p_story)
        stars[i], story[i], evidence[i] = given, told, story_evidence(told, y)
        story_firm[i] = f if told > 0 else NO_PROVIDER
        warned[i], exploited[i], discovered[i] = warn, exploit, found
        failed[i], complained[i], recovered[i] = fail, complain, fixed

        revenue[f] += firm[f, PRICE] + (firm[f, MISTAKE_REVENUE] if exploit else 0.0)
        costs[f] += (
            firm[f, UNIT_COST]
            + (firm[f, RECOVERY_COST] if fixed else 0.0)
            + (firm[f, WARN_COST] if warn else 0.0)
        )
        encounters[f] += 1
        satisfied[f] += kept
        warnings[f] += warn
        n_exploited[f] += exploit
        n_discovered[f] += found
        complaints[f] += complain
        recoveries[f] += fixed


# --------------------------------------------------------------------------- 7.3 care


@compiled
def care(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    provider: np.ndarray,
    firm: np.ndarray,
    params: np.ndarray,
    u_care: np.ndarray,
    costs: np.ndarray,
) -> None:
    """A proactive contact: a deposit and benevolence evidence 1 at half weight."""
    p = params[0]
    for i in range(provider.size):
        f = provider[i]
        if f < 0 or not u_care[i] < firm[f, CARE_RATE]:
            continue
        c, _, _ = trust_in(beliefs, balance, identification, i, f, p)
        balance[i, f] = deposit(balance[i, f], p.d_care, c)
        beliefs[i, f, BENEVOLENCE] = learn(
            beliefs[i, f, BENEVOLENCE], 1.0, p.eta_up, p.eta_down, CARE_WEIGHT
        )
        costs[f] += firm[f, CARE_COST]


# --------------------------------------------------------------------------- 7.4 talk


@compiled
def talk_probability(
    story: np.ndarray, talkativeness: np.ndarray, params: np.ndarray
) -> np.ndarray:
    """P(telling each neighbour), per customer: 0 without a story."""
    p = params[0]
    out = np.zeros(story.size)
    for i in range(story.size):
        if story[i] > 0:
            base = p.p_negative if story[i] >= FIRST_NEGATIVE else p.p_positive
            out[i] = min(base * talkativeness[i], 1.0)
    return out


@compiled
def listen(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    aware: np.ndarray,
    story: np.ndarray,
    story_firm: np.ndarray,
    evidence: np.ndarray,
    tellers: np.ndarray,
    hearers: np.ndarray,
    params: np.ndarray,
    ledger: tuple[np.ndarray, ...],
) -> None:
    """Every hearer learns from the messages it got: ``k`` messages about the same firm
    and aspect combine as ``k`` updates toward their mean (ODD 7.4), with trust taken
    before anyone learns. Hearing of a firm puts it in the consideration set."""
    p = params[0]
    stories_positive, stories_negative, wom_positive, wom_negative = ledger
    m = aware.shape[1]
    for i in range(story.size):
        if story[i] > 0:
            if story[i] >= FIRST_NEGATIVE:
                stories_negative[story_firm[i]] += 1
            else:
                stories_positive[story_firm[i]] += 1
    keys = np.empty(tellers.size, dtype=np.int64)
    for k in range(tellers.size):
        s = tellers[k]
        f = story_firm[s]
        if story[s] >= FIRST_NEGATIVE:
            wom_negative[f] += 1
        else:
            wom_positive[f] += 1
        keys[k] = (hearers[k] * m + f) * 3 + STORY_ASPECT[story[s]]
    if tellers.size == 0:
        return
    order = np.argsort(keys, kind="mergesort")  # stable: messages keep their order
    # group the messages by (hearer, firm, aspect); trust first, then learning
    starts = [0]
    for k in range(1, order.size):
        if keys[order[k]] != keys[order[k - 1]]:
            starts.append(k)
    starts.append(order.size)
    groups = len(starts) - 1
    trust = np.empty(groups)
    for grp in range(groups):
        key = keys[order[starts[grp]]]
        j, f = key // (3 * m), (key // 3) % m
        trust[grp] = trust_in(beliefs, balance, identification, j, f, p)[2]
    for grp in range(groups):
        first, stop = starts[grp], starts[grp + 1]
        key = keys[order[first]]
        j, f, aspect = key // (3 * m), (key // 3) % m, key % 3
        total = 0.0
        for k in range(first, stop):
            total += evidence[tellers[order[k]]]
        count = stop - first
        down = buffered(p.eta_down, trust[grp], p.buffer)
        beliefs[j, f, aspect] = learn(
            beliefs[j, f, aspect], total / count, p.eta_up, down, p.wom_weight, count
        )
        aware[j, f] = True


@compiled
def review(
    stars: np.ndarray, served: np.ndarray, params: np.ndarray, u_review: np.ndarray, m: int
) -> np.ndarray:
    """Reviews posted this step, by firm and stars: (M, 5). Every buyer may post one,
    the likelier the more extreme its stars (J-shaped ratings)."""
    p = params[0]
    by_stars = np.zeros((m, 5))
    if not p.reviews_enabled:
        return by_stars
    for i in range(stars.size):
        if stars[i] > 0 and u_review[i] < posting_probability(
            stars[i], p.p_post, p.extremity, p.negativity
        ):
            by_stars[served[i], int(stars[i]) - 1] += 1
    return by_stars


# --------------------------------------------------------------------------- 7.5 adverts, decisions


@compiled
def advertise(aware: np.ndarray, firm: np.ndarray, params: np.ndarray, u_ad: np.ndarray) -> None:
    """This week's adverts make customers aware of the firm that pays for them."""
    p = params[0]
    n, m = aware.shape
    for i in range(n):
        for f in range(m):
            if u_ad[i, f] < p.ad_reach * firm[f, ADVERTISING]:
                aware[i, f] = True


@compiled
def decide(
    state: tuple[np.ndarray, ...],
    events: tuple[np.ndarray, ...],
    network: tuple[np.ndarray, np.ndarray, np.ndarray, bool],
    firm: np.ndarray,
    ratings: np.ndarray,
    params: np.ndarray,
    u_consider: np.ndarray,
    u_choice: np.ndarray,
    searches: np.ndarray,
    ledger: tuple[np.ndarray, ...],
) -> None:
    """Who considers the market (search or the network Bass hazard), then a logit
    choice among the firms the customer knows, or the outside option. Customers a
    person plays are skipped: their choices come from :meth:`TrustModel.choose`.
    ``searches`` counts, per provider, the customers who reconsider."""
    p = params[0]
    beliefs, balance, identification, provider, tenure, cohort, aware, played = state
    warned, failed, left = events
    indptr, indices, degree, complete = network
    n, m = aware.shape
    start = provider.copy()  # every decision reads providers as the phase began
    has = start >= 0  # a byte per customer: the prospects' neighbour counts read this
    totals = np.zeros(m)
    for i in range(n):
        if has[i]:
            totals[start[i]] += 1
    advertising = firm[:, ADVERTISING].sum()
    # no prospect's hazard exceeds the one with every neighbour adopting (it rises with
    # the share), so a prospect whose uniform is above it need not count its neighbours
    entry_cap = entry_hazard(p.p_ad, p.ad_effect, advertising, p.q_wom, 1.0)
    mean_rating = ratings.mean()
    counts = np.zeros(m)
    options = np.empty(m + 1)
    for i in range(n):
        if played[i]:  # a person chooses for this customer (the participatory classroom)
            continue
        current = start[i]
        if current >= 0:  # a customer reconsiders by search; neighbours matter only then
            hazard = search_hazard(
                p.review_rate, p.warn_search, p.failure_search, warned[i], failed[i]
            )
            if not u_consider[i] < hazard:
                continue
            searches[current] += 1
        reach = max(degree[i], 1)
        if current < 0:  # a prospect enters by the network Bass hazard
            if not u_consider[i] < entry_cap:
                continue
            adopters = 0.0
            if complete:
                adopters = float(totals.sum())
            else:
                for k in range(indptr[i], indptr[i + 1]):
                    adopters += has[indices[k]]
            hazard = entry_hazard(p.p_ad, p.ad_effect, advertising, p.q_wom, adopters / reach)
            if not u_consider[i] < hazard:
                continue
        if not aware[i].any():
            continue
        if complete:
            for g in range(m):
                counts[g] = totals[g] - (1.0 if current == g else 0.0)
        else:
            counts[:] = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                if has[indices[k]]:
                    counts[start[indices[k]]] += 1
        for g in range(m):
            if not aware[i, g]:
                options[g] = -np.inf
                continue
            t = trust_in(beliefs, balance, identification, i, g, p)[2]
            options[g] = utility(
                p.beta_trust, p.beta_proof, p.beta_rating, p.beta_popularity, p.beta_price,
                p.reference_price, t, counts[g] / reach, ratings[g] - mean_rating,
                totals[g] / n, firm[g, PRICE],
            ) + (p.switching_cost if g == current else 0.0)  # fmt: skip
        size = m
        if p.outside_option:
            options[m] = p.u_out
            size = m + 1
        choice = logit_pick(options[:size], p.temperature, u_choice[i])
        chosen = choice if choice < m else NO_PROVIDER
        if chosen != current:
            move(i, current, chosen, provider, tenure, cohort, left, ledger)


@compiled
def move(
    i: int,
    current: int,
    chosen: int,
    provider: np.ndarray,
    tenure: np.ndarray,
    cohort: np.ndarray,
    left: np.ndarray,
    ledger: tuple[np.ndarray, ...],
) -> None:
    """Customer ``i`` leaves ``current`` for ``chosen`` (7.5 outcomes): a churn, an exit
    to the outside option, an acquisition or an entry; tenure and cohort start over."""
    churns, acquisitions, entries, exits = ledger
    if current >= 0:
        churns[current] += 1
        left[i] = True
        if chosen < 0:
            exits[current] += 1
    if chosen >= 0:
        acquisitions[chosen] += 1
        if current < 0:
            entries[chosen] += 1
    provider[i] = chosen
    tenure[i] = 0
    cohort[i] = False


@compiled
def apply_choices(
    rows: np.ndarray,
    chosen: np.ndarray,
    state: tuple[np.ndarray, ...],
    left: np.ndarray,
    ledger: tuple[np.ndarray, ...],
) -> None:
    """The moves people chose for their customers (ODD 8b), counted as in 7.5; the
    customer now knows the firm it chose, and is served by it this week."""
    provider, served, tenure, cohort, aware = state
    for k in range(rows.size):
        i, current, firm = rows[k], provider[rows[k]], chosen[k]
        if firm == current:
            continue
        move(i, current, firm, provider, tenure, cohort, left, ledger)
        served[i] = firm
        if firm >= 0:
            aware[i, firm] = True


# --------------------------------------------------------------------------- 7.6, observation


@compiled
def settle(
    beliefs: np.ndarray,
    balance: np.ndarray,
    propensity: np.ndarray,
    provider: np.ndarray,
    tenure: np.ndarray,
    params: np.ndarray,
) -> None:
    """The week's end for customers: the bank account decays, beliefs drift toward
    the prior (``trust.forgetting``), and customers' tenure grows."""
    p = params[0]
    n, m = balance.shape
    keep = 1.0 - p.decay
    for i in range(n):
        for f in range(m):
            balance[i, f] *= keep
            if p.forgetting > 0.0:
                for aspect in range(3):
                    beliefs[i, f, aspect] += p.forgetting * (propensity[i] - beliefs[i, f, aspect])
        if provider[i] >= 0:
            tenure[i] += 1


TALLY_ROWS = (
    "customers",
    "cohort_customers",
    "trust_sum",
    "cognitive_sum",
    "affective_sum",
    "promoters",
    "detractors",
    "reputation",
    "awareness",
)
N_TALLY = len(TALLY_ROWS)
CUSTOMERS, COHORT, TRUST, COGNITIVE, AFFECTIVE, PROMOTERS, DETRACTORS, REPUTATION, AWARE = range(
    N_TALLY
)


@compiled
def tally(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    provider: np.ndarray,
    cohort: np.ndarray,
    aware: np.ndarray,
    params: np.ndarray,
) -> np.ndarray:
    """The customer sums behind the metrics, in one pass (rows as
    :data:`TALLY_ROWS`, one column per firm)."""
    p = params[0]
    n, m = balance.shape
    out = np.zeros((N_TALLY, m))
    for i in range(n):
        own = provider[i]
        for f in range(m):
            c, a, t = trust_in(beliefs, balance, identification, i, f, p)
            out[REPUTATION, f] += t
            out[AWARE, f] += aware[i, f]
            if f == own:
                promoter, detractor = nps_shares(t, p.nps_slope, p.nps_shift, p.nps_noise)
                out[CUSTOMERS, f] += 1
                out[COHORT, f] += cohort[i]
                out[TRUST, f] += t
                out[COGNITIVE, f] += c
                out[AFFECTIVE, f] += a
                out[PROMOTERS, f] += promoter
                out[DETRACTORS, f] += detractor
    out[REPUTATION] /= n  # means over all N
    out[AWARE] /= n
    return out


_announced = False


def cached() -> bool:
    """Whether the kernels of a step are already compiled in numba's on-disk cache."""
    try:  # every run calls these three; the others compile in a moment when first used
        return all(
            Path(k._cache._cache_file._index_path).exists() for k in (encounter, decide, tally)
        )
    except AttributeError:  # numba's cache internals moved: claim nothing
        return True


def announce_compilation() -> None:
    """Say on the terminal (once per process) when the kernels are about to be compiled:
    the first run on a machine takes some seconds longer."""
    global _announced
    if not _announced and not cached():
        logging.getLogger("trustsim").warning(
            "trustsim: compiling kernels, first run only (about 10 to 20 s)"
        )
    _announced = True


def _forget_stale_kernels() -> None:
    """numba keys a cached kernel on its own file only, so an edit of ``rules.py`` would
    leave kernels compiled from the old rules in the cache. Record a hash of the rules
    beside the cache, and drop this module's cached kernels when it changes."""
    try:
        folder = Path(encounter._cache._cache_path)
    except AttributeError:  # numba's cache internals moved: nothing to do
        return
    stamp = folder / "trustsim-rules.sha256"
    digest = hashlib.sha256(Path(rules.__file__).read_bytes()).hexdigest()
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for stale in folder.glob(f"{Path(__file__).stem}.*.nb[ic]"):
            stale.unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only cache: numba falls back to compiling in memory
        return


_forget_stale_kernels()
