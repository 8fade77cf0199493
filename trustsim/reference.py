"""The model written agent by agent: the honest baseline for the compiled kernels.

Plain Mesa agents, each with its own state and one method per phase, loops
instead of array tricks. It consumes the very same random numbers as
:class:`trustsim.model.TrustModel` (the draw functions of ``trustsim.draws``
and the network's ``contacts``; each agent indexes the arrays by its own
number), so on the same seed both produce the same tables to rounding. It is
slow by design; use it to check the fast model and to read the rules.
"""

from __future__ import annotations

from collections import defaultdict

import mesa
import numpy as np

from trustsim import draws, metrics, rules
from trustsim.config import Firm as FirmConfig
from trustsim.config import Scenario
from trustsim.draws import seed_sequence
from trustsim.network import build_network
from trustsim.simulate import RunResult, manifest, tables
from trustsim.state import LEDGER_FLOWS

NONE = -1


class RefFirm(mesa.Agent):
    """A firm with its strategy, this step's flows and its accounts."""

    def __init__(self, model: ReferenceModel, index: int, config: FirmConfig) -> None:
        super().__init__(model)
        self.index, self.config = index, config
        self.cumulative_profit = 0.0
        self.npv = 0.0
        self.review_log: list[tuple[float, float]] = []
        self.cohort_start = 0
        self.flows: dict[str, float] = {}
        self.profit = 0.0
        self.start_step()

    def start_step(self) -> None:
        """Open a fresh ledger of this step's flows."""
        self.flows = defaultdict(float)

    def rating(self) -> float:
        """The public rating: Bayesian average of the stars in the window (ODD 7.4)."""
        rv = self.model.config.reviews
        log = self.review_log if rv.window is None else self.review_log[-rv.window :]
        count = sum(c for c, _ in log)
        star_sum = sum(s for _, s in log)
        return float(rules.bayesian_rating(star_sum, count, rv.prior_mean, rv.prior_weight))

    def has_breach(self, u: float) -> bool:
        """Whether the firm is breached this step, given its uniform draw ``u`` (ODD 7.1)."""
        hazard = self.model.config.market.breach_rate * (1.0 - self.config.data_protection)
        return u < hazard

    def close_books(self, customers_start: int, step: int) -> None:
        """Add protection and advertising costs, then book profit, cumulative profit and NPV."""
        cfg, sc = self.config, self.model.config
        self.flows["costs"] += (
            cfg.protection_cost * cfg.data_protection * customers_start
            + cfg.ad_cost * cfg.advertising * sc.population.size
        )
        self.profit = self.flows["revenue"] - self.flows["costs"]
        self.cumulative_profit += self.profit
        years = step / sc.market.steps_per_year
        self.npv += rules.discounted(self.profit, sc.market.discount_rate, years)


class RefCustomer(mesa.Agent):
    """One customer: beliefs, bank account and identification per firm."""

    def __init__(self, model: ReferenceModel, index: int, init: draws.InitDraws) -> None:
        super().__init__(model)
        sc = model.config
        self.index = index
        pi = float(init.propensity[index])
        self.propensity = pi
        self.talkativeness = float(init.talkativeness[index])
        self.beliefs = []
        self.balance = []
        self.identification = []
        for f, firm in enumerate(sc.firms):
            ability = rules.first_impression(
                pi, firm.promise, firm.advertising, sc.market.first_impression
            )
            self.beliefs.append([float(ability), pi, pi])
            self.balance.append(0.0)
            cosine = float(init.customer_values[index] @ init.firm_values[f])
            self.identification.append((cosine + 1.0) / 2.0)
        self.provider = NONE
        cumulative = 0.0
        for f, firm in enumerate(sc.firms):
            cumulative += firm.initial_share
            if init.u_provider[index] < cumulative:
                self.provider = f
                break
        self.tenure = 0
        self.cohort = self.provider != NONE
        self.aware = [
            bool(init.u_aware[index, f] < sc.market.initial_awareness) or f == self.provider
            for f in range(len(sc.firms))
        ]
        self.inbox: list[tuple[int, int, float]] = []
        self.reset_events()

    # ------------------------------------------------------------------ trust

    def trust(self, f: int) -> tuple[float, float, float]:
        """Cognitive, affective and overall trust in firm ``f``."""
        sc = self.model.config
        ability, benevolence, integrity = self.beliefs[f]
        cognitive = rules.cognitive_trust(ability, benevolence, integrity, sc.trust.weakest_link)
        affect = float(
            rules.affective(self.balance[f], self.identification[f], sc.bank.scale, sc.trust.w_id)
        )
        return cognitive, affect, float(rules.overall(cognitive, affect, self.model.omega))

    def learn(
        self, f: int, aspect: int, evidence: float, trust: float, weight: float = 1.0, k: int = 1
    ) -> None:
        """Move belief ``aspect`` about firm ``f`` toward ``evidence`` (ODD 7, learning).

        Learning is asymmetric and bad news is buffered by current ``trust``.
        """
        tr = self.model.config.trust
        down = rules.buffered(tr.eta_down, trust, tr.buffer)
        self.beliefs[f][aspect] = float(
            rules.learn(self.beliefs[f][aspect], evidence, tr.eta_up, down, weight=weight, k=k)
        )

    def reset_events(self) -> None:
        """Clear this step's events and story; remember who served the customer."""
        self.served = self.provider
        self.warned = self.exploited = self.discovered = self.failed = False
        self.complained = self.recovered = self.breached = self.left = False
        self.stars = 0.0
        self.story, self.story_firm, self.story_evidence = rules.NO_STORY, NONE, 0.0

    # ------------------------------------------------------------------ phases

    def suffer_breach(self, f: int, u_news: float) -> None:
        """7.1: as a customer of breached firm ``f``, or as someone who hears the news."""
        sc = self.model.config
        _, _, trust = self.trust(f)
        if self.provider == f:
            self.breached = True
            self.learn(f, rules.INTEGRITY, 0.0, trust)
            self.balance[f] = float(
                rules.withdraw(self.balance[f], sc.bank.d_breach, sc.bank.loss_aversion)
            )
        elif u_news < sc.news.reach:
            self.learn(f, rules.INTEGRITY, 0.0, trust, weight=sc.news.weight)

    def buy(self, d: draws.EncounterDraws) -> None:
        """7.2: one encounter with the provider, if there is a need this step."""
        if self.provider == NONE:
            return
        i, f = self.index, self.provider
        sc, firm = self.model.config, self.model.firm_agents[self.provider]
        mk, bank, cfg = sc.market, sc.bank, firm.config
        cognitive, _, trust = self.trust(f)
        if not d.u_need[i] < rules.need_probability(trust, mk.need_rate, mk.loyalty):
            return
        la = bank.loss_aversion
        flows = firm.flows
        flows["encounters"] += 1
        paid = cfg.price
        salient = rules.NO_STORY

        if d.u_mistake[i] < mk.mistake_rate:
            target = rules.WARN_TARGETS.index(cfg.warn_target)
            warnable = rules.warnable(
                target, trust, self.tenure, cfg.warn_min_trust, cfg.warn_min_tenure
            )
            if warnable and d.u_warn[i] < cfg.warn_rate:
                self.warned = True
                flows["warnings"] += 1
                flows["costs"] += cfg.warn_cost
                self.learn(f, rules.BENEVOLENCE, 1.0, trust)
                self.balance[f] += bank.d_warn * cognitive
                salient = rules.WARNED
            else:
                self.exploited = True
                paid += cfg.mistake_revenue
                flows["exploited"] += 1
                if d.u_discover[i] < mk.discovery:
                    self.discovered = True
                    flows["discovered"] += 1
                    self.learn(f, rules.BENEVOLENCE, 0.0, trust)
                    self.learn(f, rules.INTEGRITY, 0.0, trust)
                    self.balance[f] -= la * bank.d_exploit
                    salient = rules.EXPLOITED

        quality = float(d.quality[i])
        self.learn(f, rules.ABILITY, quality, trust)
        kept = quality >= cfg.promise - mk.tolerance
        self.learn(f, rules.INTEGRITY, 1.0 if kept else 0.0, trust)
        if kept:
            flows["satisfied"] += 1
            if quality >= cfg.promise + mk.tolerance:
                self.balance[f] += bank.d_extra * cognitive
        else:
            self.balance[f] -= la * bank.d_broken

        if quality < mk.failure_threshold:
            self.failed = True
            if d.u_complain[i] < mk.complaint_rate:
                self.complained = True
                flows["complaints"] += 1
                if d.u_recover[i] < cfg.recovery:
                    self.recovered = True
                    flows["recoveries"] += 1
                    flows["costs"] += cfg.recovery_cost
                    self.learn(f, rules.BENEVOLENCE, 1.0, trust)
                    self.balance[f] += bank.d_recovery * cognitive
                    salient = max(salient, rules.RECOVERED)
                else:
                    self.learn(f, rules.BENEVOLENCE, 0.0, trust)
                    self.balance[f] -= la * bank.d_ignored
                    salient = max(salient, rules.IGNORED)

        flows["revenue"] += paid
        flows["costs"] += cfg.unit_cost
        self.tell_later(salient, quality, d.u_story[i])

    def tell_later(self, salient: int, quality: float, u_story: float) -> None:
        """7.4: the stars this encounter would earn in a review, and the story to tell."""
        rv, wom, f = self.model.config.reviews, self.model.config.wom, self.provider
        satisfaction = rules.experienced_satisfaction(
            quality, self.model.firm_agents[f].config.promise, rv.disconfirmation
        )
        experience = rules.experience_stars(satisfaction, rv.neutral, rv.star_slope)
        self.stars = float(rules.review_stars(salient, self.failed, experience))
        story = int(rules.story_of(salient, self.stars, u_story, wom.p_story))
        if story != rules.NO_STORY:
            self.story, self.story_firm = story, f
            self.story_evidence = float(rules.story_evidence(story, quality))

    def receive_care(self, u: float) -> None:
        """7.3: a proactive contact from the provider."""
        if self.provider == NONE:
            return
        f, firm, sc = self.provider, self.model.firm_agents[self.provider], self.model.config
        if u < firm.config.care_rate:
            cognitive, _, _ = self.trust(f)
            self.balance[f] += sc.bank.d_care * cognitive
            self.beliefs[f][rules.BENEVOLENCE] = float(
                rules.learn(
                    self.beliefs[f][rules.BENEVOLENCE],
                    1.0,
                    sc.trust.eta_up,
                    sc.trust.eta_down,
                    weight=rules.CARE_WEIGHT,
                )
            )
            firm.flows["costs"] += firm.config.care_cost

    def talk_probability(self) -> float:
        """7.4: P(telling each neighbour) about this step's story."""
        if self.story == rules.NO_STORY:
            return 0.0
        wom = self.model.config.wom
        base = wom.p_negative if self.story >= rules.FIRST_NEGATIVE else wom.p_positive
        return min(base * self.talkativeness, 1.0)

    def listen(self) -> None:
        """7.4: combine this step's messages per firm and aspect, then update."""
        grouped: dict[tuple[int, int], list[float]] = defaultdict(list)
        for firm, aspect, evidence in self.inbox:
            grouped[(firm, aspect)].append(evidence)
        trust = {f: self.trust(f)[2] for f, _ in grouped}
        for (f, aspect), heard in sorted(grouped.items()):
            self.aware[f] = True
            self.learn(
                f,
                aspect,
                sum(heard) / len(heard),
                trust[f],
                weight=self.model.config.wom.weight,
                k=len(heard),
            )
        self.inbox = []

    def review(self, u: float) -> tuple[int, int] | None:
        """7.4: after an encounter, maybe post a review; returns (firm, stars)."""
        rv = self.model.config.reviews
        if not rv.enabled or self.stars == 0:
            return None
        if u >= rules.posting_probability(self.stars, rv.p_post, rv.extremity, rv.negativity):
            return None
        return self.served, int(self.stars)

    def see_adverts(self, u_ad: np.ndarray) -> None:
        """7.5: this week's adverts may make the customer aware of the advertiser."""
        reach = self.model.config.market.ad_reach
        for f, firm in enumerate(self.model.firm_agents):
            if u_ad[self.index, f] < reach * firm.config.advertising:
                self.aware[f] = True

    def choose(
        self,
        d: draws.DecisionDraws,
        providers: list[int],
        ratings: list[float],
        popularity: list[float],
    ) -> int:
        """7.5: consider the market, then pick a known firm or the outside option."""
        i, sc = self.index, self.model.config
        mk, m = sc.market, len(sc.firms)
        neighbours = self.model.network.neighbours(i)
        degree = max(len(neighbours), 1)
        counts = [0] * m
        for j in neighbours:
            if providers[j] != NONE:
                counts[providers[j]] += 1
        if self.provider != NONE:
            hazard = rules.search_hazard(
                mk.review_rate, mk.warn_search, mk.failure_search, self.warned, self.failed
            )
        else:
            advertising = sum(f.advertising for f in sc.firms)
            hazard = float(
                rules.entry_hazard(
                    mk.p_ad, mk.ad_effect, advertising, mk.q_wom, sum(counts) / degree
                )
            )
        if not d.u_consider[i] < hazard:
            return self.provider
        if self.provider != NONE:
            self.model.firm_agents[self.provider].flows["searches"] += 1
        if not any(self.aware):
            return self.provider
        mean_rating = sum(ratings) / m
        beta_proof, beta_rating, beta_popularity = rules.social_weights(
            mk.social_proof, mk.beta_proof, mk.beta_rating, mk.beta_popularity
        )
        utility = []
        for g, firm in enumerate(sc.firms):
            if not self.aware[g]:
                utility.append(-np.inf)
                continue
            u = rules.utility(
                mk.beta_trust, beta_proof, beta_rating, beta_popularity, mk.beta_price,
                mk.reference_price, self.trust(g)[2], counts[g] / degree,
                ratings[g] - mean_rating, popularity[g], firm.price,
            )  # fmt: skip
            utility.append(u + (mk.switching_cost if g == self.provider else 0.0))
        if mk.outside_option:
            utility.append(mk.u_out)
        choice = rules.logit_pick(np.array(utility), mk.temperature, float(d.u_choice[i]))
        return choice if choice < m else NONE

    def switch_to(self, new: int) -> None:
        """Move to firm ``new`` (or to none), booking churn, exit, acquisition and entry."""
        firms = self.model.firm_agents
        if new == self.provider:
            return
        if self.provider != NONE:
            self.left = True
            firms[self.provider].flows["churns"] += 1
            if new == NONE:
                firms[self.provider].flows["exits"] += 1
        if new != NONE:
            firms[new].flows["acquisitions"] += 1
            if self.provider == NONE:
                firms[new].flows["entries"] += 1
        self.provider, self.tenure, self.cohort = new, 0, False

    def end_step(self) -> None:
        """7.6: bank decay, forgetting toward the prior, tenure."""
        tr, bank = self.model.config.trust, self.model.config.bank
        for f in range(len(self.balance)):
            self.balance[f] *= 1.0 - bank.decay
            if tr.forgetting > 0:
                for aspect in range(3):
                    x = self.beliefs[f][aspect]
                    self.beliefs[f][aspect] = x + tr.forgetting * (self.propensity - x)
        if self.provider != NONE:
            self.tenure += 1


class ReferenceModel(mesa.Model):
    """The agent-by-agent model; same constructor and records as ``TrustModel``."""

    def __init__(
        self, scenario: Scenario, *, seed: int | np.random.SeedSequence | None = None
    ) -> None:
        self.streams = draws.Streams.from_seed(seed)
        super().__init__(rng=self.streams.mesa)
        self.config = scenario
        n = scenario.population.size
        self.network = build_network(scenario.network, n, self.streams.network)
        self.omega = rules.cognitive_weight(scenario.market.risk, scenario.trust.omega0)
        init = draws.init_draws(scenario, self.streams.init)
        self.firm_agents = [RefFirm(self, f, cfg) for f, cfg in enumerate(scenario.firms)]
        self.customer_agents = [RefCustomer(self, i, init) for i in range(n)]
        for c in self.customer_agents:
            if c.cohort:
                self.firm_agents[c.provider].cohort_start += 1
        for firm in self.firm_agents:  # as the fast engine's first ledger
            firm.flows["customers_start"] = firm.cohort_start
        self.firm_records: list[dict[str, object]] = []
        self.population_records: list[dict[str, object]] = []
        self.collect()

    @property
    def n_steps(self) -> int:
        """Completed steps (Mesa's ``time`` advances by one per step)."""
        return int(self.time)

    def providers(self) -> list[int]:
        """Every customer's provider index (-1 for none), in customer order."""
        return [c.provider for c in self.customer_agents]

    def step(self) -> None:
        """One week, agent by agent, in the order and with the draws of the fast engine."""
        customers, firms, rng = self.customer_agents, self.firm_agents, self.streams.phase
        n, m = len(customers), len(firms)
        customers_start = [0] * m
        for c in customers:
            c.reset_events()
            if c.provider != NONE:
                customers_start[c.provider] += 1
        for firm in firms:
            firm.start_step()
            firm.flows["customers_start"] = customers_start[firm.index]

        d_breach = draws.breach_draws(rng["breach"], n, m)
        for firm in firms:
            if firm.has_breach(float(d_breach.u_breach[firm.index])):
                firm.flows["breaches"] += 1
                firm.flows["costs"] += firm.config.breach_cost * customers_start[firm.index]
                for c in customers:
                    c.suffer_breach(firm.index, float(d_breach.u_news[c.index, firm.index]))

        d_enc = draws.encounter_draws(
            rng["encounter"],
            np.array(self.providers()),
            np.array([f.config.quality for f in firms]),
            np.array([f.config.quality_concentration for f in firms]),
        )
        for c in customers:
            c.buy(d_enc)

        u_care = draws.uniforms(rng["care"], n)
        for c in customers:
            c.receive_care(float(u_care[c.index]))

        self.word_of_mouth()

        u_ad = draws.uniforms(rng["aware"], n, m)
        for c in customers:
            c.see_adverts(u_ad)

        d_dec = draws.decision_draws(rng["decide"], n)
        providers = self.providers()
        ratings = [f.rating() for f in firms]
        popularity = [providers.count(g) / n for g in range(m)]  # shares as displayed
        chosen = [c.choose(d_dec, providers, ratings, popularity) for c in customers]
        for c, new in zip(customers, chosen, strict=True):
            c.switch_to(new)

        for c in customers:
            c.end_step()
        for firm in firms:
            firm.close_books(customers_start[firm.index], self.n_steps)
        self.collect()

    def word_of_mouth(self) -> None:
        """Each teller tells neighbours (ODD 7.4); every hearer learns from each message."""
        customers, firms, rng = self.customer_agents, self.firm_agents, self.streams.phase
        p = np.array([c.talk_probability() for c in customers])
        tellers, hearers = self.network.contacts(rng["talk"], p)
        for i, j in zip(tellers, hearers, strict=True):
            teller = customers[i]
            negative = teller.story >= rules.FIRST_NEGATIVE
            firms[teller.story_firm].flows["wom_negative" if negative else "wom_positive"] += 1
            aspect = int(rules.STORY_ASPECT[teller.story])
            customers[j].inbox.append((teller.story_firm, aspect, teller.story_evidence))
        for c in customers:
            if c.story != rules.NO_STORY:
                kind = "negative" if c.story >= rules.FIRST_NEGATIVE else "positive"
                firms[c.story_firm].flows[f"stories_{kind}"] += 1
            c.listen()
        u_review = draws.uniforms(rng["review"], len(customers))
        new = [[0.0, 0.0] for _ in firms]
        for c in customers:
            posted = c.review(float(u_review[c.index]))
            if posted is not None:
                firm, stars = firms[posted[0]], posted[1]
                new[posted[0]][0] += 1
                new[posted[0]][1] += stars
                firm.flows[f"stars_{stars}"] += 1
        for firm, (count, star_sum) in zip(firms, new, strict=True):
            firm.flows["new_reviews"] += count
            firm.flows["new_stars"] += star_sum
            firm.review_log.append((count, star_sum))

    def collect(self) -> None:
        """Tally every customer agent by agent, then compute the metrics from the
        shared registry (``metrics.FIRM_METRICS``), as the fast engine does."""
        customers, firms, n = self.customer_agents, self.firm_agents, len(self.customer_agents)
        totals: dict[int, dict[str, float]] = {f.index: defaultdict(float) for f in firms}
        reputation = [0.0] * len(firms)
        aware = [0.0] * len(firms)
        survey = self.config.survey
        for c in customers:
            for f in range(len(firms)):
                cognitive, affect, trust = c.trust(f)
                reputation[f] += trust / n
                if c.provider == f:
                    t = totals[f]
                    t["customers"] += 1
                    t["trust"] += trust
                    t["cognitive"] += cognitive
                    t["affective"] += affect
                    t["cohort"] += c.cohort
                    promoter, detractor = rules.nps_shares(
                        trust, survey.nps_slope, survey.nps_shift, survey.nps_noise
                    )
                    t["promoters"] += float(promoter)
                    t["detractors"] += float(detractor)
                if c.aware[f]:
                    aware[f] += 1 / n

        def column(key: str) -> np.ndarray:
            return np.array([totals[firm.index][key] for firm in firms])

        def flow(key: str) -> np.ndarray:
            return np.array([firm.flows[key] for firm in firms])

        counts = column("customers")
        values = metrics.firm_metrics(
            {
                **{key: flow(key) for key in LEDGER_FLOWS},
                "customers": counts,
                "cohort_customers": column("cohort"),
                "trust_sum": column("trust"),
                "cognitive_sum": column("cognitive"),
                "affective_sum": column("affective"),
                "promoters": column("promoters"),
                "detractors": column("detractors"),
                "reputation": np.array(reputation),
                "awareness": np.array(aware),
                "population": n,
                "cohort_start": np.array([firm.cohort_start for firm in firms]),
                "profit": np.array([firm.profit for firm in firms]),
                "cumulative_profit": np.array([firm.cumulative_profit for firm in firms]),
                "npv": np.array([firm.npv for firm in firms]),
                "rating": np.array([firm.rating() for firm in firms]),
                "reviews": np.array([sum(c for c, _ in firm.review_log) for firm in firms]),
            }
        )
        for k, firm in enumerate(firms):
            self.firm_records.append(
                {
                    "step": self.n_steps,
                    "firm": firm.config.name,
                    **{key: float(values[key][k]) for key in values},
                }
            )
        self.population_records.append(
            {"step": self.n_steps, **metrics.population_metrics(counts, n, np.array(reputation))}
        )


def run_reference(
    scenario: Scenario,
    *,
    seed: int | np.random.SeedSequence | None = None,
    steps: int | None = None,
) -> RunResult:
    """Run the agent-by-agent reference; same tables as :func:`trustsim.run`."""
    root = seed_sequence(seed)
    steps = scenario.steps if steps is None else steps
    model = ReferenceModel(scenario, seed=root)
    for _ in range(steps):
        model.step()
    ts, pop = tables(model.firm_records, model.population_records)
    return RunResult(ts, pop, manifest(scenario, root, steps, "reference"))
