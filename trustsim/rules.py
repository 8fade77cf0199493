"""The trust rules of the model (docs/ODD.md): every equation once, as a pure function.

Each rule takes numbers and returns numbers (no hidden randomness, no I/O) and
is written in the subset of Python that numba compiles. The fast engine's
kernels (:mod:`trustsim.kernels`) call the compiled rules inside their loops
over customers; the agent-by-agent reference (:mod:`trustsim.reference`) calls
the same functions as plain Python. A few rules that are plain arithmetic
(``first_impression``, ``bayesian_rating``, ``discounted``) also take arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ABILITY, BENEVOLENCE, INTEGRITY = 0, 1, 2
ASPECTS = ("ability", "benevolence", "integrity")

# Stories a customer may tell about a step, in rising salience: one story per
# customer and step, the most salient wins, so bad news outranks good. An
# ordinary satisfying encounter is a mild positive story only sometimes
# (wom.p_story); a broken promise or a failure is silent in talk (ODD 7.2).
NO_STORY, SATISFIED, RECOVERED, WARNED, IGNORED, EXPLOITED = range(6)
FIRST_NEGATIVE = IGNORED
STORY_NAMES = ("none", "satisfied", "recovered", "warned", "ignored", "exploited")
STORY_ASPECT = np.array([0, ABILITY, BENEVOLENCE, BENEVOLENCE, BENEVOLENCE, BENEVOLENCE])

# Stars of a review after a salient event, whatever the delivery (ODD 7.4): a
# warning earns the top mark, a resolved complaint a high one (recovery is
# remembered well, though not better than no failure: the paradox is rare;
# Matos et al. 2007), an ignored complaint or a discovered exploitation the
# lowest. Index: the story codes above; 0 means "the stars follow experience".
EVENT_STARS = np.array([0, 0, 4, 5, 1, 1])
FAILURE_STARS = 1  # an unresolved failure is a one-star experience


# --------------------------------------------------------------------------- trust (ODD 4)


def cognitive_trust(ability: float, benevolence: float, integrity: float, rho: float) -> float:
    """Cognitive trust ``C = M_rho(a, b, g) = (mean(x**rho))**(1/rho)``, in [0, 1].

    The power mean of ability, benevolence and integrity with ``rho =
    trust.weakest_link`` (ODD 4): ``rho = 1`` is the arithmetic mean,
    ``rho = 0`` the geometric mean, and ``rho -> -inf`` approaches the
    minimum, so doubting one aspect pulls the whole down. A zero aspect with
    ``rho < 0`` gives 0 (the limit).
    """
    if rho == 1.0:
        return (ability + benevolence + integrity) / 3.0
    if rho == 0.0:
        return (ability * benevolence * integrity) ** (1.0 / 3.0)
    if rho < 0.0 and min(ability, benevolence, integrity) <= 0.0:
        return 0.0
    if rho == -2.0:  # the default, without pow (seven times faster, the same value)
        inverse_squares = 1.0 / (ability * ability) + 1.0 / (benevolence * benevolence)
        return math.sqrt(3.0 / (inverse_squares + 1.0 / (integrity * integrity)))
    return ((ability**rho + benevolence**rho + integrity**rho) / 3.0) ** (1.0 / rho)


def affective(balance: float, identification: float, scale: float, w_id: float) -> float:
    """Affective trust ``F = (1 - w_id) * sigmoid(e / scale) + w_id * s`` (ODD 4)."""
    z = balance / scale
    # exp(-|z|) never overflows; choosing the numerator by a select, not a branch,
    # keeps the compiled loops free of unpredictable jumps
    decay = math.exp(-abs(z))
    sigmoid = (1.0 if z >= 0.0 else decay) / (1.0 + decay)
    return (1.0 - w_id) * sigmoid + w_id * identification


def cognitive_weight(risk: float, omega0: float) -> float:
    """``omega = omega0 + (1 - omega0) * risk``: the riskier, the more cognition weighs."""
    return omega0 + (1.0 - omega0) * risk


def overall(cognitive: float, affect: float, omega: float) -> float:
    """Overall trust ``T = omega * C + (1 - omega) * F``."""
    return omega * cognitive + (1.0 - omega) * affect


# --------------------------------------------------------------------------- learning (ODD 7)


def learn(
    x: float, evidence: float, eta_up: float, eta_down: float, weight: float = 1.0, k: float = 1.0
) -> float:
    """Asymmetric belief update toward ``evidence`` (Slovic 1993).

    ``x += (1 - (1 - weight * eta)**k) * (evidence - x)`` with ``eta = eta_up``
    when the evidence is at least ``x`` and ``eta = eta_down`` otherwise. With
    ``k = 1`` and ``weight = 1`` this is ``x += eta * (evidence - x)``; ``k``
    messages of weight ``w`` combine as ``k`` repeated updates would toward
    their mean (ODD 7.4). ``eta_down`` may already carry the trust buffer.
    """
    eta = eta_up if evidence >= x else eta_down
    if k == 1.0:  # one message or own experience: no pow needed
        return x + weight * eta * (evidence - x)
    return x + (1.0 - (1.0 - weight * eta) ** k) * (evidence - x)


def buffered(eta_down: float, trust: float, buffer: float) -> float:
    """Negative learning rate discounted by existing trust: ``eta_down * (1 - buffer*T)``."""
    return eta_down * (1.0 - buffer * trust)


def deposit(balance: float, amount: float, cognitive: float) -> float:
    """Deposit into the emotional bank, gated by cognitive trust (McAllister 1995)."""
    return balance + amount * cognitive


def withdraw(balance: float, amount: float, loss_aversion: float) -> float:
    """Withdrawal weighted by loss aversion (a loss weighs ``loss_aversion`` gains)."""
    return balance - loss_aversion * amount


def first_impression(propensity: Any, promise: Any, advertising: Any, strength: float) -> Any:
    """Initial ability belief: the prior pulled toward the advertised promise,
    ``pi + strength * advertising * (promise - pi)`` (advertising raises first impressions).
    Plain arithmetic, so it also takes arrays (initialisation, ODD 5)."""
    return propensity + strength * advertising * (promise - propensity)


# --------------------------------------------------------------------------- encounters (ODD 7.2)

WARN_TARGETS = ("all", "trusting", "tenured")  # layout.firms codes them 0, 1, 2


def warnable(
    target: float, trust: float, tenure: float, min_trust: float, min_tenure: float
) -> bool:
    """Whom a firm warns (Ascarza et al. 2016: warnings backfire with some customers):
    everyone (target 0), customers who trust it at least ``min_trust`` (1), or
    customers with it for at least ``min_tenure`` weeks (2)."""
    if target == 1:
        return trust >= min_trust
    if target == 2:
        return tenure >= min_tenure
    return True


def need_probability(trust: float, need_rate: float, loyalty: float) -> float:
    """P(need) = ``lambda0 * (1 + loyalty * (T - 0.5))`` clipped to [0, 1]: trusting
    customers buy more often (repeat purchase)."""
    return min(max(need_rate * (1.0 + loyalty * (trust - 0.5)), 0.0), 1.0)


def experienced_satisfaction(quality: float, promise: float, disconfirmation: float) -> float:
    """``x = y + d * (y - promise)``: delivered quality blended with disconfirmation.

    Satisfaction rises with what was delivered and with how it compared with
    what was promised (Oliver 1980); ``d = reviews.disconfirmation``.
    """
    return quality + disconfirmation * (quality - promise)


def experience_stars(satisfaction: float, neutral: float, slope: float) -> float:
    """Stars 1..5 of an experience: ``round(3 + slope * (x - neutral))`` (halves to even),
    clipped."""
    return min(max(float(np.rint(3.0 + slope * (satisfaction - neutral))), 1.0), 5.0)


def review_stars(salient: int, failed: bool, experience: float) -> float:
    """Stars of a review: a salient event's fixed stars, else 1 after a failure,
    else the experience's stars (``salient`` is a story code, never SATISFIED)."""
    fixed = EVENT_STARS[salient]
    if fixed > 0:
        return float(fixed)
    return float(FAILURE_STARS) if failed else experience


def story_of(salient: int, stars: float, u_story: float, p_story: float) -> int:
    """The story a buyer tells: its salient event if any; else, after an encounter
    of 4 stars or more, a mild positive story with probability ``p_story``."""
    if salient > 0:
        return salient
    return SATISFIED if stars >= 4.0 and u_story < p_story else NO_STORY


def story_evidence(story: int, quality: float) -> float:
    """Evidence a story carries: the delivered quality for a mild positive story
    (about ability), else 1 for good news and 0 for bad (about benevolence)."""
    if story == SATISFIED:
        return quality
    return 1.0 if story < FIRST_NEGATIVE else 0.0


def quality_shapes(quality: float, concentration: float) -> tuple[float, float]:
    """Beta shapes of delivered quality ``y ~ Beta(q c, (1 - q) c)`` with mean ``q``
    (kept inside (0, 1)) and concentration ``c`` (ODD 7.2)."""
    mean = min(max(quality, 1e-9), 1.0 - 1e-9)
    return mean * concentration, (1.0 - mean) * concentration


def delivery(quality: float, promise: float, tolerance: float) -> tuple[bool, bool]:
    """ODD 7.2: whether delivered ``quality`` keeps the promise (no more than the zone of
    ``tolerance`` below it) and whether it exceeds it (at least ``tolerance`` above)."""
    return quality >= promise - tolerance, quality >= promise + tolerance


def encounter_revenue(price: float, mistake_revenue: float, exploited: bool) -> float:
    """ODD 7.6: what an encounter earns: the price, plus the mistake's revenue if exploited."""
    return price + (mistake_revenue if exploited else 0.0)


def encounter_costs(
    unit_cost: float, warn_cost: float, warned: bool, recovery_cost: float, recovered: bool
) -> float:
    """ODD 7.6: what an encounter costs: the unit cost, a warning's contact, a recovery."""
    return unit_cost + (warn_cost if warned else 0.0) + (recovery_cost if recovered else 0.0)


def breach_hazard(breach_rate: float, data_protection: float) -> float:
    """ODD 7.1: a firm's weekly breach hazard, ``breach_rate * (1 - data_protection)``."""
    return breach_rate * (1.0 - data_protection)


def breach_loss(cost_per_customer: Any, customers: Any) -> Any:
    """ODD 7.1: a breach costs ``breach_cost`` per customer the firm has when it happens."""
    return cost_per_customer * customers


# ODD 7.3: a care contact is benevolence evidence 1 at half the weight of an
# encounter (a reminder shows good intentions, but less than a warning does).
CARE_WEIGHT = 0.5


# ------------------------------------------------------------------- talk and reviews (ODD 7.4)


def talk_probability(
    story: int, talkativeness: float, p_positive: float, p_negative: float
) -> float:
    """P(telling each neighbour) about this step's story: ``p_negative`` for bad news,
    ``p_positive`` for good, times the teller's talkativeness, at most 1; 0 without one."""
    if story == NO_STORY:
        return 0.0
    base = p_negative if story >= FIRST_NEGATIVE else p_positive
    return min(base * talkativeness, 1.0)


def posting_probability(stars: float, p_post: float, extremity: float, negativity: float) -> float:
    """P(a buyer posts a review) given its stars: J-shaped ratings.

    ``p_post * (1 + extremity * |stars - 3|)``, times ``negativity`` below 3
    stars: the more extreme the experience, the likelier a review, and bad
    ones likelier than good (Hu, Pavlou & Zhang 2009; Schoenmueller, Netzer &
    Stahl 2020).
    """
    p = p_post * (1.0 + extremity * abs(stars - 3.0))
    if stars < 3.0:
        p *= negativity
    return min(p, 1.0)


def bayesian_rating(star_sum: Any, count: Any, prior_mean: float, prior_weight: float) -> Any:
    """Public rating: Bayesian average of stars with a prior of ``prior_weight`` reviews.
    Plain arithmetic, so it also takes arrays (one rating per firm)."""
    return (prior_mean * prior_weight + star_sum) / (prior_weight + count)


# --------------------------------------------------------------------------- decisions (ODD 7.5)


def ad_exposure(ad_reach: float, advertising: float) -> float:
    """ODD 7.5: P(this week's adverts reach a customer), ``ad_reach * advertising``."""
    return ad_reach * advertising


def search_hazard(
    review_rate: float, warn_search: float, failure_search: float, warned: bool, failed: bool
) -> float:
    """P(a customer reconsiders its provider this week), clipped to [0, 1]:
    ``review_rate + warn_search * warned + failure_search * failed``."""
    hazard = review_rate + warn_search * warned + failure_search * failed
    return min(max(hazard, 0.0), 1.0)


def entry_hazard(
    p_ad: float, ad_effect: float, advertising: float, q_wom: float, adopters_share: float
) -> float:
    """A prospect's weekly hazard of considering the market (network Bass), clipped.

    ``h = p + q_wom * (adopting neighbours / degree)`` with
    ``p = min(1, p_ad * (1 + ad_effect * advertising))``, ``advertising`` the
    firms' total (Bass 1969; on networks as in Rand & Rust 2011).
    """
    p = min(1.0, p_ad * (1.0 + ad_effect * advertising))
    return min(max(p + q_wom * adopters_share, 0.0), 1.0)


def utility(
    p: Any,
    firm: Any,
    trust: float,
    proof: float,
    rating_gap: float,
    popularity: float,
    current: bool = False,
) -> float:
    """Utility of a firm in the logit choice; ``current``: the customer's own provider,
    which carries the switching cost as a bonus for staying.

    ``beta_trust T + beta_proof * neighbours' share + beta_rating * (rating -
    mean rating) + beta_popularity * popularity - beta_price * ln(price /
    reference_price)`` (ODD 7.5), in logit utility units (the scale is fixed
    at 1). ``p`` is the scenario's record and ``firm`` the firm's
    (:mod:`trustsim.layout`), so a new firm parameter that enters choice is
    read here and nowhere else. ``popularity`` is the firm's share of all
    customers, as a market that shows customer counts displays it (MusicLab).
    Price enters in logs relative to the market's reference price, so
    ``beta_price`` acts as a price elasticity and the outside option keeps its
    meaning whatever the weight of price.
    """
    return (
        p.market_beta_trust * trust
        + p.market_beta_proof * proof
        + p.market_beta_rating * rating_gap
        + p.market_beta_popularity * popularity
        - p.market_beta_price * math.log(firm.price / p.market_reference_price)
        + (p.market_switching_cost if current else 0.0)
    )


def social_weights(
    social_proof: bool, beta_proof: float, beta_rating: float, beta_popularity: float
) -> tuple[float, float, float]:
    """The weights of the social signals in choice: as given, or all 0 when
    ``market.social_proof`` is off (MusicLab's independent condition, ODD 7.5)."""
    if social_proof:
        return beta_proof, beta_rating, beta_popularity
    return 0.0, 0.0, 0.0


def logit_pick(utilities: np.ndarray, temperature: float, u: float) -> int:
    """The option chosen by inverse CDF from ``softmax(utilities / temperature)``: the first
    whose cumulative probability exceeds ``u`` (numerically stable; -inf is never chosen)."""
    top = utilities.max()
    weights = np.exp((utilities - top) / temperature)
    total = weights.sum()
    cumulative = 0.0
    for option in range(utilities.size):
        cumulative += weights[option] / total
        if u < cumulative:
            return option
    return utilities.size - 1


def fixed_costs(
    protection_cost: Any,
    data_protection: Any,
    customers_start: Any,
    ad_cost: Any,
    advertising: Any,
    population: float,
) -> Any:
    """ODD 7.6: a firm's weekly fixed costs: data protection per customer it had when
    the week began, and advertising per person in the market."""
    return protection_cost * data_protection * customers_start + ad_cost * advertising * population


def decayed(balance: float, decay: float) -> float:
    """ODD 7.6: the emotional bank account after a week's decay, ``e (1 - decay)``."""
    return balance * (1.0 - decay)


def forgotten(belief: float, prior: float, forgetting: float) -> float:
    """ODD 7.6: a belief after a week's drift toward the customer's prior."""
    return belief + forgetting * (prior - belief)


def discounted(amount: Any, rate: float, step: float, steps_per_year: float) -> Any:
    """ODD 7.6: ``amount / (1 + rate) ** (step / steps_per_year)``, the present value at
    a yearly ``rate`` of an amount booked in ``step``, for NPV."""
    return amount / (1.0 + rate) ** (step / steps_per_year)


# --------------------------------------------------------------------------- observation (ODD 4)


# ODD 8.1: the NPS question's cut-points on the latent 0..10 answer (Reichheld 2003)
PROMOTER_CUT = 8.5  # rounds to 9 or 10
DETRACTOR_CUT = 6.5  # rounds to 0..6


def nps_shares(trust: float, slope: float, shift: float, noise: float) -> tuple[float, float]:
    """Expected promoter and detractor shares of the NPS question (0..10 scale).

    The answer is ``round(shift + slope * T + noise * z)`` with ``z`` standard
    normal: a promoter answers 9 or 10 (latent >= 8.5), a detractor 0 to 6
    (latent < 6.5; Reichheld 2003). Returned are the probabilities, so the
    NPS is the exact expectation of surveying every customer once. ``shift``
    and ``slope`` are the survey's response calibration (ODD 8.4): answers
    crowd the top of the scale, so the answer moves less than trust does.
    """
    latent = shift + slope * trust
    root2 = math.sqrt(2.0)  # Phi(x) = erfc(-x / sqrt 2) / 2 (a rule cannot call another)
    promoter = 0.5 * math.erfc(-(latent - PROMOTER_CUT) / noise / root2)
    detractor = 0.5 * math.erfc(-(DETRACTOR_CUT - latent) / noise / root2)
    return promoter, detractor


def bass_step(adopted: float, p: float, q: float) -> float:
    """Discrete Bass recursion ``F(t+1) = F(t) + (1 - F(t)) * (p + q F(t))``."""
    return adopted + (1.0 - adopted) * (p + q * adopted)
