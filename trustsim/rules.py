"""The trust rules of the model (docs/ODD.md) as pure functions.

Every function works on numpy arrays and on plain floats alike, takes all its
inputs as arguments (no hidden randomness, no I/O) and is shared by the
vectorised model and the agent-by-agent reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, ndtr

from trustsim.config import Market

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


def power_mean(x: Any, rho: float) -> Any:
    """Power mean ``M_rho(x) = (mean(x**rho))**(1/rho)`` over the last axis, values in [0, 1].

    Notes
    -----
    Cognitive trust is the power mean of ability, benevolence and integrity
    with ``rho = trust.weakest_link`` (ODD 2): ``rho = 1`` is the
    arithmetic mean, ``rho = 0`` the geometric mean, and ``rho -> -inf``
    approaches the minimum, so doubting one aspect pulls the whole down.
    A zero component with ``rho < 0`` gives 0 (the limit).
    """
    x = np.asarray(x, dtype=float)
    if rho == 1.0:
        return _mean_last(x)
    if rho == 0.0:
        with np.errstate(divide="ignore"):
            return np.exp(_mean_last(np.log(x)))
    with np.errstate(divide="ignore", over="ignore"):
        powered = 1.0 / (x * x) if rho == -2.0 else x**rho
        return _mean_last(powered) ** (1.0 / rho)


def _mean_last(x: np.ndarray) -> Any:
    """Mean over the last axis; for three aspects, summed slice by slice (numpy's
    reduction over a length-3 axis is several times slower)."""
    if x.shape[-1] != 3:
        return x.mean(axis=-1)
    return (x[..., 0] + x[..., 1] + x[..., 2]) / 3.0


def learn(
    x: Any, evidence: Any, eta_up: float, eta_down: Any, *, weight: float = 1.0, k: Any = 1
) -> Any:
    """Asymmetric belief update toward ``evidence`` (Slovic 1993).

    ``x += (1 - (1 - weight * eta)**k) * (evidence - x)`` with ``eta = eta_up``
    when the evidence is at least ``x`` and ``eta = eta_down`` otherwise. With
    ``k = 1`` and ``weight = 1`` this is ``x += eta * (evidence - x)``; ``k``
    messages of weight ``w`` combine as ``k`` repeated updates would toward
    their mean (ODD 7.4). ``eta_down`` may already carry the trust buffer.
    """
    eta = np.where(evidence >= x, eta_up, eta_down)
    step = 1.0 - (1.0 - weight * eta) ** k
    return x + step * (evidence - x)


def buffered(eta_down: float, trust: Any, buffer: float) -> Any:
    """Negative learning rate discounted by existing trust: ``eta_down * (1 - buffer*T)``."""
    return eta_down * (1.0 - buffer * trust)


def deposit(balance: Any, amount: Any, cognitive: Any) -> Any:
    """Deposit into the emotional bank, gated by cognitive trust (McAllister 1995)."""
    return balance + amount * cognitive


def withdraw(balance: Any, amount: Any, loss_aversion: float) -> Any:
    """Withdrawal weighted by loss aversion (a loss weighs ``loss_aversion`` gains)."""
    return balance - loss_aversion * amount


def affective(balance: Any, identification: Any, scale: float, w_id: float) -> Any:
    """Affective trust ``F = (1 - w_id) * sigmoid(e / scale) + w_id * s``."""
    return (1.0 - w_id) * expit(np.asarray(balance) / scale) + w_id * identification


def cognitive_weight(risk: float, omega0: float) -> float:
    """``omega = omega0 + (1 - omega0) * risk``: the riskier, the more cognition weighs."""
    return omega0 + (1.0 - omega0) * risk


def overall(cognitive: Any, affect: Any, omega: float) -> Any:
    """Overall trust ``T = omega * C + (1 - omega) * F``."""
    return omega * cognitive + (1.0 - omega) * affect


def first_impression(propensity: Any, promise: Any, advertising: Any, strength: float) -> Any:
    """Initial ability belief: the prior pulled toward the advertised promise,
    ``pi + strength * advertising * (promise - pi)`` (advertising raises first impressions)."""
    return propensity + strength * advertising * (promise - propensity)


WARN_TARGETS = ("all", "trusting", "tenured")  # firm_table codes them 0, 1, 2


def warnable(target: Any, trust: Any, tenure: Any, min_trust: Any, min_tenure: Any) -> Any:
    """Whom a firm warns (Ascarza et al. 2016: warnings backfire with some customers):
    everyone (target 0), customers who trust it at least ``min_trust`` (1), or
    customers with it for at least ``min_tenure`` weeks (2)."""
    return np.where(
        target == 1, trust >= min_trust, np.where(target == 2, tenure >= min_tenure, True)
    )


def need_probability(trust: Any, need_rate: float, loyalty: float) -> Any:
    """P(need) = ``lambda0 * (1 + loyalty * (T - 0.5))`` clipped to [0, 1]: trusting
    customers buy more often (repeat purchase)."""
    return np.clip(need_rate * (1.0 + loyalty * (trust - 0.5)), 0.0, 1.0)


# ODD 7.3: a care contact is benevolence evidence 1 at half the weight of an
# encounter (a reminder shows good intentions, but less than a warning does).
CARE_WEIGHT = 0.5


def search_hazard(market: Any, warned: Any, failed: Any) -> Any:
    """ODD 7.5: P(a customer reconsiders its provider this week), before clipping:
    ``review_rate + warn_search * warned + failure_search * failed``."""
    return market.review_rate + market.warn_search * warned + market.failure_search * failed


def discounted(amount: Any, rate: float, years: float) -> Any:
    """ODD 7.6: ``amount / (1 + rate) ** years``, the present value for NPV."""
    return amount / (1.0 + rate) ** years


def entry_hazard(
    p_ad: float, ad_effect: float, advertising: float, q_wom: float, adopters_share: Any
) -> Any:
    """A prospect's weekly hazard of considering the market (network Bass).

    ``h = p + q_wom * (adopting neighbours / degree)`` with
    ``p = min(1, p_ad * (1 + ad_effect * advertising))``, ``advertising`` the
    firms' total (Bass 1969; on networks as in Rand & Rust 2011).
    """
    p = min(1.0, p_ad * (1.0 + ad_effect * advertising))
    return p + q_wom * np.asarray(adopters_share)


def utility(market: Market, trust: Any, proof: Any, rating_gap: Any, price: Any) -> Any:
    """Utility of a firm in the logit choice, before the switching-cost bonus.

    ``beta_trust T + beta_proof * neighbours' share + beta_rating * (rating -
    mean rating) - beta_price * ln(price / reference_price)`` (ODD 7.5). Price
    enters in logs relative to the market's reference price, so ``beta_price``
    acts as a price elasticity and the outside option keeps its meaning
    whatever the weight of price.
    """
    return (
        market.beta_trust * trust
        + market.beta_proof * proof
        + market.beta_rating * rating_gap
        - market.beta_price * np.log(np.asarray(price) / market.reference_price)
    )


def logit_probabilities(utility: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of ``utility / temperature`` along the last axis (numerically stable)."""
    z = np.asarray(utility, dtype=float) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=-1, keepdims=True)


def pick(probabilities: np.ndarray, u: Any) -> Any:
    """Inverse-CDF choice: the first option whose cumulative probability exceeds ``u``."""
    cdf = np.cumsum(probabilities, axis=-1)
    n_options = cdf.shape[-1]
    chosen = (cdf <= np.expand_dims(u, -1)).sum(axis=-1)
    return np.minimum(chosen, n_options - 1)


def bayesian_rating(star_sum: Any, count: Any, prior_mean: float, prior_weight: float) -> Any:
    """Public rating: Bayesian average of stars with a prior of ``prior_weight`` reviews."""
    return (prior_mean * prior_weight + star_sum) / (prior_weight + count)


def experienced_satisfaction(quality: Any, promise: Any, disconfirmation: float) -> Any:
    """``x = y + d * (y - promise)``: delivered quality blended with disconfirmation.

    Satisfaction rises with what was delivered and with how it compared with
    what was promised (Oliver 1980); ``d = reviews.disconfirmation``.
    """
    return quality + disconfirmation * (quality - promise)


def experience_stars(satisfaction: Any, neutral: float, slope: float) -> Any:
    """Stars 1..5 of an experience: ``round(3 + slope * (x - neutral))``, clipped."""
    return np.clip(np.rint(3.0 + slope * (np.asarray(satisfaction) - neutral)), 1.0, 5.0)


def review_stars(salient: Any, failed: Any, experience: Any) -> Any:
    """Stars of a review: a salient event's fixed stars, else 1 after a failure,
    else the experience's stars (``salient`` is a story code, never SATISFIED)."""
    fixed = EVENT_STARS[salient]
    by_delivery = np.where(failed, FAILURE_STARS, experience)
    return np.where(fixed > 0, fixed, by_delivery)


def story_of(salient: Any, stars: Any, u_story: Any, p_story: float) -> Any:
    """The story a buyer tells: its salient event if any; else, after an encounter
    of 4 stars or more, a mild positive story with probability ``p_story``."""
    mild = (np.asarray(stars) >= 4) & (np.asarray(u_story) < p_story)
    return np.where(salient > 0, salient, np.where(mild, SATISFIED, NO_STORY))


def story_evidence(story: Any, quality: Any) -> Any:
    """Evidence a story carries: the delivered quality for a mild positive story
    (about ability), else 1 for good news and 0 for bad (about benevolence)."""
    return np.where(story == SATISFIED, quality, (np.asarray(story) < FIRST_NEGATIVE) * 1.0)


def posting_probability(stars: Any, p_post: float, extremity: float, negativity: float) -> Any:
    """P(a buyer posts a review) given its stars: J-shaped ratings.

    ``p_post * (1 + extremity * |stars - 3|)``, times ``negativity`` below 3
    stars: the more extreme the experience, the likelier a review, and bad
    ones likelier than good (Hu, Pavlou & Zhang 2009; Schoenmueller, Netzer &
    Stahl 2020).
    """
    stars = np.asarray(stars, dtype=float)
    p = p_post * (1.0 + extremity * np.abs(stars - 3.0)) * np.where(stars < 3, negativity, 1.0)
    return np.minimum(p, 1.0)


def nps_shares(trust: Any, shift: float, noise: float) -> tuple[Any, Any]:
    """Expected promoter and detractor shares of the NPS question (0..10 scale).

    The answer is ``round(10 T + shift + noise * z)`` with ``z`` standard
    normal: a promoter answers 9 or 10 (latent >= 8.5), a detractor 0 to 6
    (latent < 6.5; Reichheld 2003). Returned are the probabilities, so the
    NPS is the exact expectation of surveying every customer once.
    """
    latent = 10.0 * np.asarray(trust, dtype=float) + shift
    return ndtr((latent - 8.5) / noise), ndtr((6.5 - latent) / noise)


def bass_step(adopted: float, p: float, q: float) -> float:
    """Discrete Bass recursion ``F(t+1) = F(t) + (1 - F(t)) * (p + q F(t))``."""
    return adopted + (1.0 - adopted) * (p + q * adopted)
