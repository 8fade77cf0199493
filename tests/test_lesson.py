"""Classroom lessons (ODD 8b): built-in scenarios, sizing, blind names, and how often
the social-proof lesson works."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from scipy.stats import binom

from trustsim import builtin, load_scenario
from trustsim.config import PRESETS
from trustsim.model import TrustModel
from trustsim.state import NO_PROVIDER
from trustsim.viz.lesson import (
    LESSONS,
    class_scenarios,
    lesson,
    success_rate,
    world_size,
)
from trustsim.viz.session import Session


def test_each_lesson_is_a_built_in_scenario_with_brand_names() -> None:
    for the_lesson in LESSONS.values():
        scenario = load_scenario(the_lesson.scenario)
        assert scenario.steps % the_lesson.weeks_per_round == 0
        for firm in scenario.firms:  # nothing in a name gives the strategy away
            assert not any(word in firm.name.lower() for word in ("short", "trust", "first"))
    firms = load_scenario("classroom-social-proof").firms
    assert len(firms) >= 4
    # identical firms: every field but the name is the same
    assert len({f.model_dump_json(exclude={"name"}) for f in firms}) == 1
    trust = load_scenario("classroom-trust").firms
    strategies = ("short_term", "trust_first")
    assert sorted(f.warn_rate for f in trust) == [PRESETS[s]["warn_rate"] for s in strategies]
    with pytest.raises(ValueError, match="lesson: one of social-proof, trust"):
        lesson("herding")


def test_worlds_grow_so_that_students_play_at_most_half_of_each() -> None:
    assert world_size(24, 10, 3) == 24
    assert world_size(24, 60, 3) == 40
    social, independent = class_scenarios(LESSONS["social-proof"], 60)
    assert social.population.size == independent.population.size == 40
    assert social.market.social_proof and not independent.market.social_proof


def test_a_student_page_names_neither_the_world_nor_the_strategies() -> None:
    config = builtin.resolve("classroom-trust", "scenario")
    session = Session(config, worlds=2, seed=3, max_students=10, weeks_per_round=2)
    secrets = [session.join(session.code, f"s{i}", "c").secret for i in range(4)]
    session.start(session.token)
    session.next_round(session.token)
    assert session.weeks == 2  # two weeks a round
    for secret in secrets:
        text = json.dumps(session.view(secret)).lower()
        for word in ("social", "independent", "short_term", "trust_first", "world"):
            assert word not in text, word
    kinds = {tuple(sorted(session.view(s))) for s in secrets}
    assert len(kinds) == 2  # but the two worlds do show different things
    social = next(session.view(s) for s in secrets if "customers" in session.view(s))
    assert sum(social["customers"].values()) >= 0 and "adverts" not in social


@pytest.mark.slow
def test_the_social_proof_lesson_works_in_four_classes_of_five() -> None:
    # the end screen's number (ODD 8b): in classes of 25 simulated without students the
    # social worlds end more unequal than the independent one at least 80% of the time
    found = success_rate("social-proof", 25, classes=100, seed=7)
    assert found.share >= 0.8, found
    assert "times in 10" in found.in_words()


@pytest.mark.slow
def test_rehearsed_classes_show_social_proof_at_least_four_times_in_five() -> None:
    from rehearsal import rehearse_lesson

    # 60 whole lessons of 10 bots through the HTTP entry points, each bot choosing as
    # the model's customer in its seat would. A lesson that worked exactly 80% of the
    # time would fall below this count only 1 time in 20 (binomial): fewer wins say
    # the lesson misses its goal of 4 classes in 5
    classes = 60
    worked = sum(rehearse_lesson("social-proof", 10, seed=1 + 16 * k).more_unequal
                 for k in range(classes))  # fmt: skip
    assert worked >= binom.ppf(0.05, classes, 0.8), f"{worked} of {classes}"


def test_the_model_chooses_for_a_seat_without_moving_anything() -> None:
    model = TrustModel(load_scenario("classroom-social-proof", {"population.size": 60}), seed=3)
    for _ in range(4):
        model.step()
    seats = np.array([2, 7, 11, 30, 41])
    for seat in seats:
        model.play(seat)
    before = copy.deepcopy(model.state)
    would = model.model_choices(seats)
    for name, value in vars(before).items():  # nothing in the model moved
        np.testing.assert_array_equal(getattr(model.state, name), value, err_msg=name)
    assert ((would >= NO_PROVIDER) & (would < len(model.config.firms))).all()
    # each seat decides alone (7.5 reads the providers as the phase began): the same
    # choices when every customer is asked at once, and again when asked again
    everyone = model.model_choices(np.arange(model.state.n))
    np.testing.assert_array_equal(everyone[seats], would)
    np.testing.assert_array_equal(model.model_choices(seats), would)
    # over the coming weeks the seats make the moves the model's customers make: some
    # prospects enter, and nobody is moved without a decision
    moved = 0
    for _ in range(8):
        would = model.model_choices(seats)
        moved += int((would != model.state.provider[seats]).sum())
        for seat, firm in zip(seats, would, strict=True):
            model.choose(int(seat), int(firm))
        model.step()
    assert moved > 0


def test_the_classroom_command_builds_the_lesson_sized_to_the_room() -> None:
    from trustsim.cli import build_parser, session_options

    args = build_parser().parse_args(["classroom", "--max-students", "60"])
    options = session_options(args)
    assert str(options["config"]).endswith("classroom-social-proof.yaml")
    assert options["worlds"] == 3 and options["weeks_per_round"] == 2
    assert options["overrides"] == {"population.size": 40}
    trust = session_options(build_parser().parse_args(["classroom", "--lesson", "trust"]))
    assert str(trust["config"]).endswith("classroom-trust.yaml") and trust["worlds"] == 2
    own = session_options(build_parser().parse_args(["classroom", "--config", "herding"]))
    assert own["config"].name == "herding" and "overrides" not in own


def test_the_end_screen_says_in_words_who_won_reveals_and_compares() -> None:
    config = builtin.resolve("classroom-social-proof", "scenario")
    session = Session(config, worlds=3, seed=2, max_students=10, weeks_per_round=2,
                      lesson="social-proof", success_classes=10)  # fmt: skip
    secrets = [session.join(session.code, f"s{i}", "c").secret for i in range(6)]
    session.start(session.token)
    before = session.overview(session.token)
    assert [w["label"] for w in before["worlds"]] == ["world 1", "world 2", "world 3"]
    assert before["result"] is None
    assert not any(w in json.dumps(before).lower() for w in ("condition", "social", "independent"))
    for _ in range(3):
        session.next_round(session.token)
    session.end(session.token)
    result = session.overview(session.token)["result"]
    labels = [w["label"] for w in result["worlds"]]
    assert labels == ["Independent world", "Social world 1", "Social world 2"]
    for world in result["worlds"]:
        assert world["sentence"].startswith(world["label"] + ": ")
        assert sum(world["shares"].values()) == pytest.approx(1.0)
    assert "identical" in result["reveal"] and len(result["questions"]) == 2
    assert result["verdict"].startswith("In 10 simulated classes like this one")
    verdict = result["verdict"]
    assert verdict.endswith("Yours: yes.") == result["more_unequal"]
    mine = session.view(secrets[0])["result"]  # a student sees their world's sentence
    assert mine["sentence"] in [w["sentence"] for w in result["worlds"]]


def test_a_world_sentence_names_a_clear_winner_only() -> None:
    from trustsim.viz.lesson import world_sentence

    won = world_sentence("Social world 1", {"A": 0.3, "B": 0.1, "C": 0.05, "D": 0.05})
    assert won == "Social world 1: A won 60% of the customers."
    close = world_sentence("Independent world", {"A": 0.14, "B": 0.12, "C": 0.12, "D": 0.12})
    assert close == "Independent world: no firm pulled ahead (none above 28%)."
    assert world_sentence("X", dict.fromkeys("AB", 0.0)) == "X: nobody became a customer."


def test_the_teacher_sees_students_news_and_a_banner_for_a_shock() -> None:
    config = builtin.resolve("classroom-trust", "scenario")
    session = Session(config, worlds=2, seed=4, max_students=10)
    for i in range(6):
        session.join(session.code, f"s{i}", "c")
    session.start(session.token)
    for _ in range(6):
        session.next_round(session.token)
    news = session.overview(session.token)["news"]
    assert news and {n["nickname"] for n in news} <= {f"s{i}" for i in range(6)}
    assert not any(n["news"].startswith(("You did not need", "You had no")) for n in news)
    session.shock(session.token, "breach", "Northwind")
    assert session.overview(session.token)["banner"] == "Breach at Northwind!"
    session.next_round(session.token)  # the banner belongs to the round of the shock
    assert session.overview(session.token)["banner"] is None


def test_every_student_with_a_provider_has_an_encounter_every_week() -> None:
    config = builtin.resolve("classroom-trust", "scenario")
    session = Session(config, worlds=2, seed=5, max_students=10)
    students = [session.join(session.code, f"s{i}", "c") for i in range(8)]
    session.start(session.token)
    served = 0
    for _ in range(4):
        session.next_round(session.token)
        for s in students:
            state = session.worlds[s.world].model.state
            if state.served[s.node] >= 0:  # had a provider this week: bought, so has stars
                served += 1
                assert state.stars[s.node] > 0
    assert served > 0
    # the simulated customers still need the service only now and then
    model = session.worlds[0].model
    others = (model.state.served >= 0) & ~model.state.played
    assert 0 < (model.state.stars[others] > 0).mean() < 1


def test_a_two_week_round_tells_each_of_its_weeks() -> None:
    config = builtin.resolve("classroom-social-proof", "scenario")
    session = Session(config, worlds=3, seed=6, max_students=10, weeks_per_round=2)
    secret = session.join(session.code, "ana", "c").secret
    session.start(session.token)
    session.next_round(session.token)
    events = session.view(secret)["events"]
    assert any(e.startswith("Week 1: ") for e in events)
    assert any(e.startswith("Week 2: ") for e in events)


def test_a_class_without_the_effect_is_told_why_and_what_to_look_at() -> None:
    from trustsim.viz.lesson import Success

    found = Success(25, 200, 181)
    assert found.verdict(True).endswith("9 times in 10. Yours: yes.")
    missed = found.verdict(False)
    assert "Yours: no, one of the 1 in 10." in missed and "chance" in missed
    assert "Yours: no, one of the 3 in 10." in Success(25, 200, 140).verdict(False)


def test_names_rename_the_firms_or_say_what_is_allowed() -> None:
    from trustsim.cli import build_parser, main, session_options

    args = build_parser().parse_args(["classroom", "--names", "Acme, Zenith,Orbit,Pioneer"])
    overrides = session_options(args)["overrides"]
    assert load_scenario("classroom-social-proof", overrides).firm_names == [
        "Acme", "Zenith", "Orbit", "Pioneer"
    ]  # fmt: skip
    for bad in ("Acme,Zenith", "Acme,acme,Orbit,Pioneer", "Acme,,Orbit,Pioneer"):
        assert main(["classroom", "--names", bad, "--port", "1"]) == 2


@pytest.mark.slow
def test_the_trust_lesson_gives_a_class_warnings_and_mistakes_to_talk_about() -> None:
    from rehearsal import rehearse_lesson

    played = rehearse_lesson("trust", 20, seed=5)  # 20 bots, 12 rounds of one week
    warned = [line for line in played.lines if "warned you" in line]
    found_out = [line for line in played.lines if "sold you an add-on" in line]
    # measured over 10 classes: warnings in 10% of student-rounds, mistakes found out in 4%
    assert len(warned) >= 0.05 * played.student_rounds
    assert len(found_out) >= 0.01 * played.student_rounds
    assert all(line.startswith("Bluebird") for line in warned)  # only the trust-first firm
    assert any(line.startswith("You found out Northwind") for line in found_out)
    assert played.news["none"] < 0.5 * played.student_rounds  # most rounds bring news
