"""The model written agent by agent: the honest baseline for the compiled kernels.

Plain Mesa agents, each with its own state and one method per phase, loops
instead of array tricks. It draws the very same random numbers as
:class:`trustsim.model.TrustModel`: the counter-based draws of
:mod:`trustsim.draws`, run here as plain Python, keyed by the phase, the step,
the agent's number and the lane the kernels use. So on the same seed both
produce the same tables to rounding. It is
slow by design; use it to check the fast model and to read the rules.
"""

from __future__ import annotations

from collections import defaultdict

import mesa
import numpy as np

from trustsim import draws, events, kernels, layout, metrics, rules
from trustsim.config import (
    AnyEvent,
    BreachEvent,
    EnterEvent,
    ExitEvent,
    Scenario,
    ViralReviewEvent,
    event_overrides,
)
from trustsim.config import Firm as FirmConfig
from trustsim.draws import seed_sequence
from trustsim.layout import LEDGER_FLOWS
from trustsim.network import build_network
from trustsim.simulate import RunResult, manifest, tables

NONE = -1


class RefFirm(mesa.Agent):
    """A firm with its strategy, this step's flows and its accounts."""

    def __init__(self, model: ReferenceModel, index: int, config: FirmConfig) -> None:
        super().__init__(model)
        self.index, self.config = index, config
        self.present = bool(model.config.in_market(0)[index])  # in the market (ODD 8a)
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

    def has_breach(self) -> bool:
        """Whether the firm is breached this step (ODD 7.1)."""
        hazard = rules.breach_hazard(
            self.model.config.market.breach_rate, self.config.data_protection
        )
        drawn = self.model.uniform("breach", self.index, kernels.BREACH) < hazard
        return drawn and self.present

    def close_books(self, customers_start: int, step: int) -> None:
        """Add protection and advertising costs, then book profit, cumulative profit and NPV."""
        cfg, sc = self.config, self.model.config
        if self.present:
            self.flows["costs"] += rules.fixed_costs(
                cfg.protection_cost, cfg.data_protection, customers_start,
                cfg.ad_cost, cfg.advertising, sc.population.size,
            )  # fmt: skip
        self.profit = self.flows["revenue"] - self.flows["costs"]
        self.cumulative_profit += self.profit
        mk = sc.market
        self.npv += rules.discounted(self.profit, mk.discount_rate, step, mk.steps_per_year)


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

    def suffer_breach(self, f: int, stream: str = "breach") -> bool:
        """7.1: as a customer of breached firm ``f``, or as someone who may hear the news;
        returns whether the customer was the firm's. A breach event draws from ``shocks``."""
        sc = self.model.config
        _, _, trust = self.trust(f)
        if self.provider == f:
            self.breached = True
            self.learn(f, rules.INTEGRITY, 0.0, trust)
            self.balance[f] = float(
                rules.withdraw(self.balance[f], sc.bank.d_breach, sc.bank.loss_aversion)
            )
            return True
        if self.model.uniform(stream, self.index, kernels.NEWS + f) < sc.news.reach:
            self.learn(f, rules.INTEGRITY, 0.0, trust, weight=sc.news.weight)
        return False

    def buy(self) -> None:
        """7.2: one encounter with the provider, if there is a need this step."""
        if self.provider == NONE:
            return
        i, f = self.index, self.provider
        sc, firm = self.model.config, self.model.firm_agents[self.provider]
        mk, bank, cfg = sc.market, sc.bank, firm.config
        cognitive, _, trust = self.trust(f)

        def u(lane: int) -> float:
            return self.model.uniform("encounter", i, lane)

        if not u(kernels.NEED) < rules.need_probability(trust, mk.need_rate, mk.loyalty):
            return
        la = bank.loss_aversion
        flows = firm.flows
        flows["encounters"] += 1
        salient = rules.NO_STORY

        if u(kernels.MISTAKE) < mk.mistake_rate:
            target = rules.WARN_TARGETS.index(cfg.warn_target)
            warnable = rules.warnable(
                target, trust, self.tenure, cfg.warn_min_trust, cfg.warn_min_tenure
            )
            if warnable and u(kernels.WARN) < cfg.warn_rate:
                self.warned = True
                flows["warnings"] += 1
                self.learn(f, rules.BENEVOLENCE, 1.0, trust)
                self.balance[f] = rules.deposit(self.balance[f], bank.d_warn, cognitive)
                salient = rules.WARNED
            else:
                self.exploited = True
                flows["exploited"] += 1
                if u(kernels.DISCOVER) < mk.discovery:
                    self.discovered = True
                    flows["discovered"] += 1
                    self.learn(f, rules.BENEVOLENCE, 0.0, trust)
                    self.learn(f, rules.INTEGRITY, 0.0, trust)
                    self.balance[f] = rules.withdraw(self.balance[f], bank.d_exploit, la)
                    salient = rules.EXPLOITED

        shape_a, shape_b = rules.quality_shapes(cfg.quality, cfg.quality_concentration)
        quality = float(self.model.beta("encounter", i, kernels.QUALITY, shape_a, shape_b))
        self.learn(f, rules.ABILITY, quality, trust)
        kept, exceeded = rules.delivery(quality, cfg.promise, mk.tolerance)
        self.learn(f, rules.INTEGRITY, 1.0 if kept else 0.0, trust)
        if kept:
            flows["satisfied"] += 1
            if exceeded:
                self.balance[f] = rules.deposit(self.balance[f], bank.d_extra, cognitive)
        else:
            self.balance[f] = rules.withdraw(self.balance[f], bank.d_broken, la)

        if quality < mk.failure_threshold:
            self.failed = True
            if u(kernels.COMPLAIN) < mk.complaint_rate:
                self.complained = True
                flows["complaints"] += 1
                if u(kernels.RECOVER) < cfg.recovery:
                    self.recovered = True
                    flows["recoveries"] += 1
                    self.learn(f, rules.BENEVOLENCE, 1.0, trust)
                    self.balance[f] = rules.deposit(self.balance[f], bank.d_recovery, cognitive)
                    salient = max(salient, rules.RECOVERED)
                else:
                    self.learn(f, rules.BENEVOLENCE, 0.0, trust)
                    self.balance[f] = rules.withdraw(self.balance[f], bank.d_ignored, la)
                    salient = max(salient, rules.IGNORED)

        flows["revenue"] += rules.encounter_revenue(cfg.price, cfg.mistake_revenue, self.exploited)
        flows["costs"] += rules.encounter_costs(
            cfg.unit_cost, cfg.warn_cost, self.warned, cfg.recovery_cost, self.recovered
        )
        self.tell_later(salient, quality, u(kernels.STORY))

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

    def receive_care(self) -> None:
        """7.3: a proactive contact from the provider."""
        if self.provider == NONE:
            return
        f, firm, sc = self.provider, self.model.firm_agents[self.provider], self.model.config
        if self.model.uniform("care", self.index, 0) < firm.config.care_rate:
            cognitive, _, _ = self.trust(f)
            self.balance[f] = rules.deposit(self.balance[f], sc.bank.d_care, cognitive)
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
            firm.flows["care_contacts"] += 1

    def talk_probability(self) -> float:
        """7.4: P(telling each neighbour) about this step's story."""
        wom = self.model.config.wom
        return float(
            rules.talk_probability(self.story, self.talkativeness, wom.p_positive, wom.p_negative)
        )

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

    def review(self) -> tuple[int, int] | None:
        """7.4: after an encounter, maybe post a review; returns (firm, stars)."""
        rv = self.model.config.reviews
        if not rv.enabled or self.stars == 0:
            return None
        if self.model.uniform("review", self.index, 0) >= rules.posting_probability(
            self.stars, rv.p_post, rv.extremity, rv.negativity
        ):
            return None
        return self.served, int(self.stars)

    def see_adverts(self) -> None:
        """7.5: this week's adverts may make the customer aware of the advertiser."""
        reach = self.model.config.market.ad_reach
        for f, firm in enumerate(self.model.firm_agents):
            exposure = rules.ad_exposure(reach, firm.config.advertising)
            if self.model.uniform("aware", self.index, f) < exposure and firm.present:
                self.aware[f] = True

    def choose(
        self,
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
            advertising = sum(f.config.advertising for f in self.model.firm_agents if f.present)
            hazard = float(
                rules.entry_hazard(
                    mk.p_ad, mk.ad_effect, advertising, mk.q_wom, sum(counts) / degree
                )
            )
        if not self.model.uniform("decide", i, kernels.CONSIDER) < hazard:
            return self.provider
        if self.provider != NONE:
            self.model.firm_agents[self.provider].flows["searches"] += 1
        present = [firm.present for firm in self.model.firm_agents]
        if not any(a and p for a, p in zip(self.aware, present, strict=True)):
            return self.provider
        mean_rating = sum(r for r, p in zip(ratings, present, strict=True) if p) / sum(present)
        utility = []
        for g in range(m):
            if not self.aware[g] or not present[g]:
                utility.append(-np.inf)
                continue
            u = rules.utility(
                self.model.params, self.model.firm_params[g], self.trust(g)[2],
                counts[g] / degree, ratings[g] - mean_rating, popularity[g], g == self.provider,
            )  # fmt: skip
            utility.append(u)
        if mk.outside_option:
            utility.append(mk.u_out)
        u_choice = self.model.uniform("decide", i, kernels.CHOICE)
        choice = rules.logit_pick(np.array(utility), mk.temperature, u_choice)
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
            self.balance[f] = rules.decayed(self.balance[f], bank.decay)
            if tr.forgetting > 0:
                for aspect in range(3):
                    self.beliefs[f][aspect] = rules.forgotten(
                        self.beliefs[f][aspect], self.propensity, tr.forgetting
                    )
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
        self.shocks = 0  # events so far: each draws from the shocks stream at its own count
        init = draws.init_draws(scenario, self.streams.init)
        self.firm_agents = [RefFirm(self, f, cfg) for f, cfg in enumerate(scenario.firms)]
        self.configure(scenario)
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

    def configure(self, scenario: Scenario) -> None:
        """Take ``scenario``'s parameters from now on (at the start, and at a set or
        strategy event); which firms are in the market stays."""
        self.config = scenario
        self.omega = rules.cognitive_weight(scenario.market.risk, scenario.trust.omega0)
        # the records rules.utility reads, as attribute-access records
        self.params = layout.params(scenario).view(np.recarray)[0]
        present = [firm.present for firm in self.firm_agents]
        self.firm_params = layout.firms(scenario, np.array(present)).view(np.recarray)
        for firm, config in zip(self.firm_agents, scenario.firms, strict=True):
            firm.config = config

    def uniform(self, phase: str, item: int, lane: int) -> float:
        """This step's uniform of ``phase`` for ``item`` in ``lane``, as the kernels draw it;
        the ``shocks`` stream counts events instead of weeks."""
        step = self.shocks if phase == "shocks" else self.n_steps
        return float(draws.uniform(self.streams.keys[phase], step, item, lane))

    def beta(self, phase: str, item: int, lane: int, a: float, b: float) -> float:
        """This step's Beta(a, b) draw of ``phase`` for ``item`` from ``lane`` on."""
        return float(draws.beta(a, b, self.streams.keys[phase], self.n_steps, item, lane))

    def providers(self) -> list[int]:
        """Every customer's provider index (-1 for none), in customer order."""
        return [c.provider for c in self.customer_agents]

    def step(self) -> None:
        """One week, agent by agent, in the order and with the draws of the fast engine."""
        with draws.wrapping():
            self._step()
        self.collect()

    def _step(self) -> None:
        customers, firms = self.customer_agents, self.firm_agents
        n, m = len(customers), len(firms)
        customers_start = [0] * m
        for c in customers:
            c.reset_events()
            if c.provider != NONE:
                customers_start[c.provider] += 1
        for firm in firms:
            firm.start_step()
            firm.flows["customers_start"] = customers_start[firm.index]
        for _, event in self.config.events_in(self.n_steps):
            self.happen(event)

        for firm in firms:
            if firm.has_breach():
                firm.flows["breaches"] += 1
                hit = sum(c.suffer_breach(firm.index) for c in customers)
                firm.flows["costs"] += rules.breach_loss(firm.config.breach_cost, hit)
                firm.flows["breach_hit"] += hit

        for c in customers:
            c.buy()

        for c in customers:
            c.receive_care()

        self.word_of_mouth()

        for c in customers:
            c.see_adverts()

        providers = self.providers()
        ratings = [f.rating() for f in firms]
        popularity = [providers.count(g) / n for g in range(m)]  # shares as displayed
        chosen = [c.choose(providers, ratings, popularity) for c in customers]
        for c, new in zip(customers, chosen, strict=True):
            c.switch_to(new)

        for c in customers:
            c.end_step()
        for firm in firms:
            firm.close_books(customers_start[firm.index], self.n_steps)

    def happen(self, event: AnyEvent) -> None:
        """An event of the timeline at the start of this week (ODD 8a), agent by agent."""
        customers, names = self.customer_agents, self.config.firm_names
        f = names.index(event.firm) if hasattr(event, "firm") else -1
        if isinstance(event, BreachEvent):
            self.shocks += 1
            firm = self.firm_agents[f]
            firm.flows["breaches"] += 1
            hit = sum(c.suffer_breach(f, "shocks") for c in customers)
            firm.flows["costs"] += rules.breach_loss(firm.config.breach_cost, hit)
            firm.flows["breach_hit"] += hit
        elif isinstance(event, ViralReviewEvent):
            self.shocks += 1
            reach = self.config.news.reach if event.reach is None else event.reach
            stars = events.STARS[event.tone] * events.VIRAL_REVIEWS
            for firm in self.firm_agents:
                firm.review_log.append((events.VIRAL_REVIEWS, stars) if firm.index == f else (0, 0))
            trust = [c.trust(f)[2] for c in customers]  # as it was before anyone read
            for c, t in zip(customers, trust, strict=True):
                if self.uniform("shocks", c.index, 0) < reach:
                    c.learn(f, rules.BENEVOLENCE, events.EVIDENCE[event.tone], t,
                            weight=self.config.wom.weight)  # fmt: skip
        elif isinstance(event, EnterEvent | ExitEvent):
            self.firm_agents[f].present = isinstance(event, EnterEvent)
            for c in customers:
                if c.provider == f and not self.firm_agents[f].present:
                    c.switch_to(NONE)
                    c.served = NONE
            self.configure(self.config)
        else:
            self.configure(self.config.with_overrides(event_overrides(event)))

    def word_of_mouth(self) -> None:
        """Each teller tells each neighbour with its talk probability (ODD 7.4); every
        hearer learns from each message."""
        customers, firms = self.customer_agents, self.firm_agents
        told = [c.talk_probability() for c in customers]
        for hearer in customers:
            j = hearer.index
            for i in self.network.neighbours(j):
                teller = customers[i]
                if told[i] == 0.0 or not self.uniform("talk", int(i), j) < told[i]:
                    continue
                negative = teller.story >= rules.FIRST_NEGATIVE
                kind = "wom_negative" if negative else "wom_positive"
                firms[teller.story_firm].flows[kind] += 1
                aspect = int(rules.STORY_ASPECT[teller.story])
                hearer.inbox.append((teller.story_firm, aspect, teller.story_evidence))
        for c in customers:
            if c.story != rules.NO_STORY:
                kind = "negative" if c.story >= rules.FIRST_NEGATIVE else "positive"
                firms[c.story_firm].flows[f"stories_{kind}"] += 1
            c.listen()
        new = [[0.0, 0.0] for _ in firms]
        for c in customers:
            posted = c.review()
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
                "in_market": np.array([float(firm.present) for firm in firms]),
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
        present = np.array([firm.present for firm in firms])
        self.population_records.append(
            {
                "step": self.n_steps,
                **metrics.population_metrics(counts, n, np.array(reputation), present),
            }
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
