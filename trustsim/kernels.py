"""Compiled kernels of the fast engine: one loop over customers per phase (ODD 7).

Each kernel reads like the submodel it implements, customer by customer, and
calls the rules of :mod:`trustsim.rules` compiled by numba; the reference calls
the same rules as plain Python. Random numbers are drawn inside the loops from
counters (:mod:`trustsim.draws`), only where they are used.

The loops run in parallel over chunks of :data:`~trustsim.layout.CHUNK` customers
(``prange``). Within a phase a customer writes only its own state and its
chunk's ledger row; word of mouth is pulled by each listener from its
neighbours. Chunk rows are summed in chunk order, so the tables are the same
whatever the number of threads. Parameters arrive as records
(:mod:`trustsim.layout`): ``p.market_review_rate``, ``firms[f].warn_rate``,
``part[c, f].churns``. Kernels are compiled once and cached on disk.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
from numba import config as numba_config
from numba import njit, prange, set_num_threads

from trustsim import draws, rules
from trustsim.draws import beta, uniform
from trustsim.layout import CHUNK

NO_PROVIDER = -1


def compiled(func: Any) -> Any:
    """A rule or helper compiled by numba, cached on disk."""
    return njit(cache=True, nogil=True, error_model="numpy")(func)


def parallel(func: Any) -> Any:
    """A kernel compiled by numba with its ``prange`` loop spread over threads."""
    return njit(cache=True, nogil=True, parallel=True, error_model="numpy")(func)


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
quality_shapes = compiled(rules.quality_shapes)
delivery = compiled(rules.delivery)
encounter_revenue = compiled(rules.encounter_revenue)
encounter_costs = compiled(rules.encounter_costs)
experienced_satisfaction = compiled(rules.experienced_satisfaction)
experience_stars = compiled(rules.experience_stars)
review_stars = compiled(rules.review_stars)
story_of = compiled(rules.story_of)
story_evidence = compiled(rules.story_evidence)
breach_hazard = compiled(rules.breach_hazard)
breach_loss = compiled(rules.breach_loss)
talk_probability = compiled(rules.talk_probability)
posting_probability = compiled(rules.posting_probability)
ad_exposure = compiled(rules.ad_exposure)
search_hazard = compiled(rules.search_hazard)
entry_hazard = compiled(rules.entry_hazard)
utility = compiled(rules.utility)
logit_pick = compiled(rules.logit_pick)
decayed = compiled(rules.decayed)
forgotten = compiled(rules.forgotten)
nps_shares = compiled(rules.nps_shares)

BENEVOLENCE, INTEGRITY = rules.BENEVOLENCE, rules.INTEGRITY
STORY_ASPECT = rules.STORY_ASPECT
NO_STORY, RECOVERED, WARNED = rules.NO_STORY, rules.RECOVERED, rules.WARNED
IGNORED, EXPLOITED, FIRST_NEGATIVE = rules.IGNORED, rules.EXPLOITED, rules.FIRST_NEGATIVE
CARE_WEIGHT = rules.CARE_WEIGHT

# lanes of a customer's draws within a phase's stream (ODD 7); a hand case may
# script the encounter's and the decision's, row by lane (``script``)
NEED, MISTAKE, WARN, DISCOVER, COMPLAIN, RECOVER, STORY, QUALITY = range(8)
CONSIDER, CHOICE = range(2)
BREACH, NEWS = 0, 1  # a firm's breach draw; the news about firm f is lane NEWS + f


@compiled
def span(chunk: int, n: int) -> tuple[int, int]:
    """The customers of ``chunk``: ``range(*span(chunk, n))``."""
    return chunk * CHUNK, min(n, (chunk + 1) * CHUNK)


@compiled
def n_chunks(n: int) -> int:
    """Chunks of customers covering ``n`` (at least one)."""
    return max(1, (n + CHUNK - 1) // CHUNK)


@compiled
def draw(script: np.ndarray, lane: int, key: np.uint64, step: int, i: int) -> float:
    """Customer ``i``'s uniform in ``lane``: from the counter, or from the script."""
    if script.shape[1] > 0:
        return script[lane, i]
    return uniform(key, step, i, lane)


# --------------------------------------------------------------------------- trust (ODD 4)


@compiled
def trust_in(
    beliefs: np.ndarray, balance: np.ndarray, identification: np.ndarray, i: int, f: int, p: Any
) -> tuple[float, float, float]:
    """Cognitive, affective and overall trust of customer ``i`` in firm ``f``."""
    c = cognitive_trust(beliefs[i, f, 0], beliefs[i, f, 1], beliefs[i, f, 2], p.trust_weakest_link)
    a = affective(balance[i, f], identification[i, f], p.bank_scale, p.trust_w_id)
    return c, a, overall(c, a, p.trust_omega)


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


@parallel
def trust_all(
    beliefs: np.ndarray, balance: np.ndarray, identification: np.ndarray, params: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """C, F and T of every customer in every firm, each (N, M)."""
    n, m = balance.shape
    c, a, t = np.empty((n, m)), np.empty((n, m)), np.empty((n, m))
    for i in prange(n):
        p = params[0]
        for f in range(m):
            c[i, f], a[i, f], t[i, f] = trust_in(beliefs, balance, identification, i, f, p)
    return c, a, t


# --------------------------------------------------------------------------- 7.1 breach


@parallel
def breach(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    provider: np.ndarray,
    breached: np.ndarray,
    firms: np.ndarray,
    params: np.ndarray,
    key: np.uint64,
    step: int,
    part: np.ndarray,
) -> None:
    """A breached firm's customers learn integrity 0 and lose a deposit; others may hear."""
    n = provider.size
    for f in range(firms.size):
        hazard = breach_hazard(params[0].market_breach_rate, firms[f].data_protection)
        if not uniform(key, step, f, BREACH) < hazard or not firms[f].present:
            continue
        part[0, f].breaches += 1
        for c in prange(n_chunks(n)):
            p = params[0]
            lo, hi = span(c, n)
            for i in range(lo, hi):
                customer = provider[i] == f
                if not customer and not uniform(key, step, i, NEWS + f) < p.news_reach:
                    continue
                weight = 1.0 if customer else p.news_weight
                t = trust_in(beliefs, balance, identification, i, f, p)[2]
                down = buffered(p.trust_eta_down, t, p.trust_buffer)
                beliefs[i, f, INTEGRITY] = learn(
                    beliefs[i, f, INTEGRITY], 0.0, p.trust_eta_up, down, weight
                )
                if customer:
                    breached[i] = True
                    balance[i, f] = withdraw(balance[i, f], p.bank_d_breach, p.bank_loss_aversion)
                    part[c, f].costs += breach_loss(firms[f].breach_cost, 1.0)
                    part[c, f].breach_hit += 1


@parallel
def viral_review(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    params: np.ndarray,
    key: np.uint64,
    step: int,
    firm: int,
    evidence: float,
    reach: float,
) -> int:
    """A story about ``firm`` that each customer reads with probability ``reach``:
    benevolence evidence ``evidence`` at word-of-mouth weight, a fall softened by the
    reader's trust as it was (ODD 8a). Returns how many read it."""
    n = beliefs.shape[0]
    readers = 0
    for i in prange(n):
        p = params[0]
        if not uniform(key, step, i, 0) < reach:
            continue
        readers += 1
        t = trust_in(beliefs, balance, identification, i, firm, p)[2]
        down = buffered(p.trust_eta_down, t, p.trust_buffer)
        beliefs[i, firm, BENEVOLENCE] = learn(
            beliefs[i, firm, BENEVOLENCE], evidence, p.trust_eta_up, down, p.wom_weight
        )
    return readers


# --------------------------------------------------------------------------- 7.2 encounter


@parallel
def encounter(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    provider: np.ndarray,
    tenure: np.ndarray,
    played: np.ndarray,
    warned: np.ndarray,
    exploited: np.ndarray,
    discovered: np.ndarray,
    failed: np.ndarray,
    complained: np.ndarray,
    recovered: np.ndarray,
    stars: np.ndarray,
    story: np.ndarray,
    story_firm: np.ndarray,
    story_evidence_: np.ndarray,
    firms: np.ndarray,
    params: np.ndarray,
    key: np.uint64,
    step: int,
    script: np.ndarray,
    part: np.ndarray,
) -> None:
    """Each customer with a need (every played customer) buys once: a mistake (warned, or
    exploited and maybe found out), delivery against the promise, failure, complaint
    and recovery."""
    n = provider.size
    for c in prange(n_chunks(n)):
        p = params[0]
        la, up = p.bank_loss_aversion, p.trust_eta_up
        lo, hi = span(c, n)
        for i in range(lo, hi):
            f = provider[i]
            if f < 0:
                continue
            firm = firms[f]
            cog, _, t = trust_in(beliefs, balance, identification, i, f, p)
            need = need_probability(t, p.market_need_rate, p.market_loyalty)
            # a customer played by a person needs the service every week (ODD 8b): each
            # round brings them news (the draw is keyed, so skipping it moves no other)
            if not (played[i] or draw(script, NEED, key, step, i) < need):
                continue
            down = buffered(p.trust_eta_down, t, p.trust_buffer)
            a, b, g, e = beliefs[i, f, 0], beliefs[i, f, 1], beliefs[i, f, 2], balance[i, f]

            # 1. a costly mistake: warn, or exploit (and maybe be found out)
            warn = exploit = found = False
            if draw(script, MISTAKE, key, step, i) < p.market_mistake_rate:
                warn = warnable(
                    firm.warn_target, t, tenure[i], firm.warn_min_trust, firm.warn_min_tenure
                ) and (draw(script, WARN, key, step, i) < firm.warn_rate)
                exploit = not warn
                found = exploit and draw(script, DISCOVER, key, step, i) < p.market_discovery
            if warn:
                b = learn(b, 1.0, up, down)
                e = deposit(e, p.bank_d_warn, cog)
            if found:
                b = learn(b, 0.0, up, down)
                g = learn(g, 0.0, up, down)
                e = withdraw(e, p.bank_d_exploit, la)

            # 2. delivery against the promise, "plus a little extra"
            if script.shape[1] > 0:
                y = script[QUALITY, i]
            else:
                shape_a, shape_b = quality_shapes(firm.quality, firm.quality_concentration)
                y = beta(shape_a, shape_b, key, step, i, QUALITY)
            a = learn(a, y, up, down)
            kept, exceeded = delivery(y, firm.promise, p.market_tolerance)
            g = learn(g, 1.0 if kept else 0.0, up, down)
            if exceeded:
                e = deposit(e, p.bank_d_extra, cog)
            if not kept:
                e = withdraw(e, p.bank_d_broken, la)

            # 3. failure, complaint and recovery
            fail = y < p.market_failure_threshold
            complain = fail and draw(script, COMPLAIN, key, step, i) < p.market_complaint_rate
            fixed = complain and draw(script, RECOVER, key, step, i) < firm.recovery
            ignored = complain and not fixed
            if fixed:
                b = learn(b, 1.0, up, down)
                e = deposit(e, p.bank_d_recovery, cog)
            if ignored:
                b = learn(b, 0.0, up, down)
                e = withdraw(e, p.bank_d_ignored, la)
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
            felt = experienced_satisfaction(y, firm.promise, p.reviews_disconfirmation)
            given = review_stars(
                salient, fail, experience_stars(felt, p.reviews_neutral, p.reviews_star_slope)
            )
            told = NO_STORY
            if salient > 0 or given >= 4.0:  # a mild positive story needs its own draw
                told = story_of(salient, given, draw(script, STORY, key, step, i), p.wom_p_story)
            stars[i], story[i], story_evidence_[i] = given, told, story_evidence(told, y)
            story_firm[i] = f if told > 0 else NO_PROVIDER
            warned[i], exploited[i], discovered[i] = warn, exploit, found
            failed[i], complained[i], recovered[i] = fail, complain, fixed

            row = part[c, f]
            row.revenue += encounter_revenue(firm.price, firm.mistake_revenue, exploit)
            row.costs += encounter_costs(
                firm.unit_cost, firm.warn_cost, warn, firm.recovery_cost, fixed
            )
            row.encounters += 1
            row.satisfied += kept
            row.warnings += warn
            row.exploited += exploit
            row.discovered += found
            row.complaints += complain
            row.recoveries += fixed


# --------------------------------------------------------------------------- 7.3 care


@parallel
def care(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    provider: np.ndarray,
    firms: np.ndarray,
    params: np.ndarray,
    key: np.uint64,
    step: int,
    part: np.ndarray,
) -> None:
    """A proactive contact: a deposit and benevolence evidence 1 at half weight."""
    n = provider.size
    for c in prange(n_chunks(n)):
        p = params[0]
        lo, hi = span(c, n)
        for i in range(lo, hi):
            f = provider[i]
            if f < 0 or not uniform(key, step, i, 0) < firms[f].care_rate:
                continue
            cog = trust_in(beliefs, balance, identification, i, f, p)[0]
            balance[i, f] = deposit(balance[i, f], p.bank_d_care, cog)
            beliefs[i, f, BENEVOLENCE] = learn(
                beliefs[i, f, BENEVOLENCE], 1.0, p.trust_eta_up, p.trust_eta_down, CARE_WEIGHT
            )
            part[c, f].costs += firms[f].care_cost
            part[c, f].care_contacts += 1


# --------------------------------------------------------------------------- 7.4 talk


@compiled
def hears(
    i: int, j: int, story: np.ndarray, talkativeness: np.ndarray, p: Any, key: np.uint64, step: int
) -> bool:
    """Whether teller ``i`` tells listener ``j`` this step (one draw per pair)."""
    told = talk_probability(story[i], talkativeness[i], p.wom_p_positive, p.wom_p_negative)
    return uniform(key, step, i, j) < told


@parallel
def listen(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    aware: np.ndarray,
    story: np.ndarray,
    story_firm: np.ndarray,
    story_evidence_: np.ndarray,
    talkativeness: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    complete: bool,
    tellers: np.ndarray,
    params: np.ndarray,
    key: np.uint64,
    step: int,
    part: np.ndarray,
) -> None:
    """Every listener pulls this step's stories from its neighbours (each tells each
    neighbour with its talk probability). ``k`` messages about the same firm and
    aspect combine as ``k`` updates toward their mean (ODD 7.4), with trust taken
    before the listener learns. Hearing of a firm puts it in the consideration set.
    On the implicit complete network every teller (``tellers``) is a neighbour."""
    n, m = aware.shape
    for c in prange(n_chunks(n)):
        p = params[0]
        total, count = np.zeros((m, 3)), np.zeros((m, 3))
        lo, hi = span(c, n)
        for j in range(lo, hi):
            if story[j] > 0:
                if story[j] >= FIRST_NEGATIVE:
                    part[c, story_firm[j]].stories_negative += 1
                else:
                    part[c, story_firm[j]].stories_positive += 1
            heard = 0
            first, stop = (0, tellers.size) if complete else (indptr[j], indptr[j + 1])
            for k in range(first, stop):
                i = tellers[k] if complete else indices[k]
                if (
                    i == j
                    or story[i] == NO_STORY
                    or not hears(i, j, story, talkativeness, p, key, step)
                ):
                    continue
                f = story_firm[i]
                total[f, STORY_ASPECT[story[i]]] += story_evidence_[i]
                count[f, STORY_ASPECT[story[i]]] += 1
                heard += 1
                if story[i] >= FIRST_NEGATIVE:
                    part[c, f].wom_negative += 1
                else:
                    part[c, f].wom_positive += 1
            if heard == 0:
                continue
            for f in range(m):
                if count[f].sum() == 0:
                    continue
                t = trust_in(beliefs, balance, identification, j, f, p)[2]
                down = buffered(p.trust_eta_down, t, p.trust_buffer)
                for aspect in range(3):
                    k = count[f, aspect]
                    if k > 0:
                        beliefs[j, f, aspect] = learn(
                            beliefs[j, f, aspect], total[f, aspect] / k, p.trust_eta_up, down,
                            p.wom_weight, k,
                        )  # fmt: skip
                aware[j, f] = True
                total[f] = 0.0
                count[f] = 0.0


@compiled
def add_review(row: Any, stars: int) -> None:
    """Count one new review of ``stars`` stars on a firm's ledger row."""
    row.new_reviews += 1
    row.new_stars += stars
    if stars == 1:
        row.stars_1 += 1
    elif stars == 2:
        row.stars_2 += 1
    elif stars == 3:
        row.stars_3 += 1
    elif stars == 4:
        row.stars_4 += 1
    else:
        row.stars_5 += 1


@parallel
def review(
    stars: np.ndarray,
    served: np.ndarray,
    params: np.ndarray,
    key: np.uint64,
    step: int,
    part: np.ndarray,
) -> None:
    """Every buyer may post a review, the likelier the more extreme its stars
    (J-shaped ratings)."""
    n = stars.size
    if not params[0].reviews_enabled:
        return
    for c in prange(n_chunks(n)):
        p = params[0]
        lo, hi = span(c, n)
        for i in range(lo, hi):
            if stars[i] == 0:
                continue
            posts = posting_probability(
                stars[i], p.reviews_p_post, p.reviews_extremity, p.reviews_negativity
            )
            if uniform(key, step, i, 0) < posts:
                add_review(part[c, served[i]], int(stars[i]))


# --------------------------------------------------------------------------- 7.5 adverts, decisions


@parallel
def advertise(
    aware: np.ndarray, firms: np.ndarray, params: np.ndarray, key: np.uint64, step: int
) -> None:
    """This week's adverts make customers aware of the firm that pays for them."""
    n, m = aware.shape
    for i in prange(n):
        p = params[0]
        for f in range(m):
            exposure = ad_exposure(p.market_ad_reach, firms[f].advertising)
            if uniform(key, step, i, f) < exposure and firms[f].present:
                aware[i, f] = True


@parallel
def decide(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    provider: np.ndarray,
    tenure: np.ndarray,
    cohort: np.ndarray,
    aware: np.ndarray,
    played: np.ndarray,
    warned: np.ndarray,
    failed: np.ndarray,
    left: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    degree: np.ndarray,
    complete: bool,
    firms: np.ndarray,
    ratings: np.ndarray,
    params: np.ndarray,
    key: np.uint64,
    step: int,
    script: np.ndarray,
    part: np.ndarray,
) -> None:
    """Who considers the market (search or the network Bass hazard), then a logit
    choice among the firms the customer knows, or the outside option. Customers a
    person plays are skipped: their choices come from :meth:`TrustModel.choose`.
    ``searches`` counts, per provider, the customers who reconsider."""
    n, m = aware.shape
    start = provider.copy()  # every decision reads providers as the phase began
    has = start >= 0  # a byte per customer: the prospects' neighbour counts read this
    totals = np.zeros(m)
    for i in range(n):
        if has[i]:
            totals[start[i]] += 1
    advertising = 0.0  # of the firms in the market, whose ratings set the mean
    rating_sum, in_market = 0.0, 0
    for f in range(m):
        if firms[f].present:
            advertising += firms[f].advertising
            rating_sum += ratings[f]
            in_market += 1
    mean_rating = rating_sum / max(in_market, 1)
    for c in prange(n_chunks(n)):
        p = params[0]
        # no prospect's hazard exceeds the one with every neighbour adopting (it rises
        # with the share), so a prospect above it need not count its neighbours
        entry_cap = entry_hazard(
            p.market_p_ad, p.market_ad_effect, advertising, p.market_q_wom, 1.0
        )
        counts = np.zeros(m)
        options = np.empty(m + 1)
        lo, hi = span(c, n)
        for i in range(lo, hi):
            if played[i]:  # a person chooses for this customer (the participatory classroom)
                continue
            current = start[i]
            u_consider = draw(script, CONSIDER, key, step, i)
            if current >= 0:  # a customer reconsiders by search; neighbours matter only then
                hazard = search_hazard(
                    p.market_review_rate, p.market_warn_search, p.market_failure_search,
                    warned[i], failed[i],
                )  # fmt: skip
                if not u_consider < hazard:
                    continue
                part[c, current].searches += 1
            reach = max(degree[i], 1)
            if current < 0:  # a prospect enters by the network Bass hazard
                if not u_consider < entry_cap:
                    continue
                adopters = 0.0
                if complete:
                    adopters = float(totals.sum())
                else:
                    for k in range(indptr[i], indptr[i + 1]):
                        adopters += has[indices[k]]
                hazard = entry_hazard(
                    p.market_p_ad, p.market_ad_effect, advertising, p.market_q_wom,
                    adopters / reach,
                )  # fmt: skip
                if not u_consider < hazard:
                    continue
            known = False  # of a firm in the market
            for g in range(m):
                known = known or (aware[i, g] and firms[g].present > 0)
            if not known:
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
                if not aware[i, g] or not firms[g].present:
                    options[g] = -np.inf
                    continue
                t = trust_in(beliefs, balance, identification, i, g, p)[2]
                gap = ratings[g] - mean_rating
                options[g] = utility(
                    p, firms[g], t, counts[g] / reach, gap, totals[g] / n, g == current
                )
            size = m
            if p.market_outside_option:
                options[m] = p.market_u_out
                size = m + 1
            choice = logit_pick(
                options[:size], p.market_temperature, draw(script, CHOICE, key, step, i)
            )
            chosen = choice if choice < m else NO_PROVIDER
            if chosen != current:
                move(i, current, chosen, provider, tenure, cohort, left, part[c])


@compiled
def move(
    i: int,
    current: int,
    chosen: int,
    provider: np.ndarray,
    tenure: np.ndarray,
    cohort: np.ndarray,
    left: np.ndarray,
    ledger: np.ndarray,
) -> None:
    """Customer ``i`` leaves ``current`` for ``chosen`` (7.5 outcomes): a churn, an exit
    to the outside option, an acquisition or an entry; tenure and cohort start over.
    ``ledger`` is one ledger record per firm."""
    if current >= 0:
        ledger[current].churns += 1
        left[i] = True
        if chosen < 0:
            ledger[current].exits += 1
    if chosen >= 0:
        ledger[chosen].acquisitions += 1
        if current < 0:
            ledger[chosen].entries += 1
    provider[i] = chosen
    tenure[i] = 0
    cohort[i] = False


@compiled
def apply_choices(
    rows: np.ndarray,
    chosen: np.ndarray,
    provider: np.ndarray,
    served: np.ndarray,
    tenure: np.ndarray,
    cohort: np.ndarray,
    aware: np.ndarray,
    left: np.ndarray,
    part: np.ndarray,
) -> None:
    """The moves people chose for their customers (ODD 8b), counted as in 7.5; the
    customer now knows the firm it chose, and is served by it this week."""
    for k in range(rows.size):
        i, current, firm = rows[k], provider[rows[k]], chosen[k]
        if firm == current:
            continue
        move(i, current, firm, provider, tenure, cohort, left, part[0])
        served[i] = firm
        if firm >= 0:
            aware[i, firm] = True


# --------------------------------------------------------------------------- 7.6, observation


@parallel
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
    n, m = balance.shape
    for i in prange(n):
        p = params[0]
        for f in range(m):
            balance[i, f] = decayed(balance[i, f], p.bank_decay)
            if p.trust_forgetting > 0.0:
                for aspect in range(3):
                    beliefs[i, f, aspect] = forgotten(
                        beliefs[i, f, aspect], propensity[i], p.trust_forgetting
                    )
        if provider[i] >= 0:
            tenure[i] += 1


@parallel
def tally(
    beliefs: np.ndarray,
    balance: np.ndarray,
    identification: np.ndarray,
    provider: np.ndarray,
    cohort: np.ndarray,
    aware: np.ndarray,
    params: np.ndarray,
    part: np.ndarray,
) -> None:
    """The customer sums behind the metrics, in one pass: one record per chunk and firm
    (:data:`trustsim.layout.TALLY`); ``reputation`` and ``awareness`` are sums over
    all N (the caller divides)."""
    n, m = balance.shape
    for c in prange(n_chunks(n)):
        p = params[0]
        lo, hi = span(c, n)
        for i in range(lo, hi):
            own = provider[i]
            for f in range(m):
                cog, aff, t = trust_in(beliefs, balance, identification, i, f, p)
                row = part[c, f]
                row.reputation += t
                row.awareness += aware[i, f]
                if f == own:
                    promoter, detractor = nps_shares(
                        t, p.survey_nps_slope, p.survey_nps_shift, p.survey_nps_noise
                    )
                    row.customers += 1
                    row.cohort_customers += cohort[i]
                    row.trust_sum += t
                    row.cognitive_sum += cog
                    row.affective_sum += aff
                    row.promoters += promoter
                    row.detractors += detractor


@compiled
def add_chunks(rows: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Add the chunks' rows, (chunks, M, fields), into ``total``, (M, fields), chunk by
    chunk in order (so the sums never depend on the thread count), and zero them for
    the next phase; returns what they added."""
    added = np.zeros(total.shape)
    for c in range(rows.shape[0]):
        for f in range(rows.shape[1]):
            for k in range(rows.shape[2]):
                added[f, k] += rows[c, f, k]
                rows[c, f, k] = 0.0
    total += added
    return added


# --------------------------------------------------------------------------- the on-disk cache

STEP_KERNELS = ("encounter", "decide", "tally")  # every run calls these; others compile fast
_prepared = False


def use_threads(threads: int | None) -> int:
    """Cap the kernels called from this thread at ``threads`` threads (None: every
    thread numba started with, ``NUMBA_NUM_THREADS``, by default one per core); more
    than numba has are capped. Returns the number now in use."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads: must be at least 1 (got {threads})")
    most = numba_config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set at runtime
    used = most if threads is None else min(threads, most)
    set_num_threads(used)
    return used


def cached() -> bool:
    """Whether the kernels of a step are already compiled in numba's on-disk cache."""
    try:
        return all(
            Path(globals()[name]._cache._cache_file._index_path).exists() for name in STEP_KERNELS
        )
    except AttributeError:  # numba's cache internals moved: claim nothing
        return True


def prepare() -> None:
    """Before the first compilation in a process: drop cached kernels built from older
    rules or draws, and say on the terminal when the kernels are about to be compiled
    (the first run on a machine takes some seconds longer). Runs once per process."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    _forget_stale_kernels()
    if not cached():
        logging.getLogger("trustsim").warning(
            "trustsim: compiling kernels, first run only (about 20 to 40 s)"
        )


def _forget_stale_kernels() -> None:
    """numba keys a cached kernel on its own file only, so an edit of ``rules.py`` or
    ``draws.py`` would leave kernels compiled from the old source in the cache. Record a
    hash of both beside the cache, and drop this module's cached kernels when it changes."""
    try:
        folder = Path(encounter._cache._cache_path)
    except AttributeError:  # numba's cache internals moved: nothing to do
        return
    stamp = folder / "trustsim-rules.sha256"
    digest = hashlib.sha256(
        b"".join(Path(str(module.__file__)).read_bytes() for module in (rules, draws))
    ).hexdigest()
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for stale in folder.glob(f"{Path(__file__).stem}.*.nb[ic]"):
            stale.unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only cache: numba falls back to compiling in memory
        return
