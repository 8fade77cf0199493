"""The trust rules of MODEL.md as pure functions.

Every function works on numpy arrays and on plain floats alike, takes all its
inputs as arguments (no hidden randomness, no I/O) and is shared by the
vectorised model and the agent-by-agent reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

ABILITY, BENEVOLENCE, INTEGRITY = 0, 1, 2
ASPECTS = ("ability", "benevolence", "integrity")

# Salient stories a customer may tell about a step, in rising salience: one
# story per customer and step, the most salient wins, so bad news outranks good.
# A broken promise or a failure without complaint is silent (MODEL.md 6.2).
NO_STORY, DELIGHTED, RECOVERED, WARNED, IGNORED, EXPLOITED = range(6)
FIRST_NEGATIVE = IGNORED
STORY_NAMES = ("none", "delighted", "recovered", "warned", "ignored", "exploited")
STORY_ASPECT = np.array([0, ABILITY, BENEVOLENCE, BENEVOLENCE, BENEVOLENCE, BENEVOLENCE])
_STORY_STARS = np.array([0, 0, 4, 5, 1, 1])  # 0: the stars follow satisfaction


def power_mean(x: Any, rho: float) -> Any:
    """Power mean ``M_rho(x) = (mean(x**rho))**(1/rho)`` over the last axis, values in [0, 1].

    Notes
    -----
    Cognitive trust is the power mean of ability, benevolence and integrity
    with ``rho = trust.weakest_link`` (MODEL.md 4): ``rho = 1`` is the
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
    their mean (MODEL.md 6.4). ``eta_down`` may already carry the trust buffer.
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


def need_probability(trust: Any, need_rate: float, loyalty: float) -> Any:
    """P(need) = ``lambda0 * (1 + loyalty * (T - 0.5))`` clipped to [0, 1]: trusting
    customers buy more often (repeat purchase)."""
    return np.clip(need_rate * (1.0 + loyalty * (trust - 0.5)), 0.0, 1.0)


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


def stars(story: Any, satisfaction: Any, tolerance: float) -> Any:
    """Review stars 1..5: fixed for warnings, complaints and exploitation; for
    a delighted customer ``3 + round(satisfaction / tolerance)`` clipped to 1..5,
    where satisfaction is delivered minus promised quality (Oliver 1980)."""
    by_delivery = np.clip(3 + np.rint(satisfaction / max(tolerance, 1e-9)), 1, 5)
    fixed = _STORY_STARS[story]
    return np.where(fixed > 0, fixed, by_delivery)


def bass_step(adopted: float, p: float, q: float) -> float:
    """Discrete Bass recursion ``F(t+1) = F(t) + (1 - F(t)) * (p + q F(t))``."""
    return adopted + (1.0 - adopted) * (p + q * adopted)
