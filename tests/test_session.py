"""The participatory classroom's round logic and its security (ODD 8b), without a browser."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import small

from trustsim.model import TrustModel
from trustsim.state import NO_PROVIDER
from trustsim.viz.session import (
    ENDED,
    INDEPENDENT,
    MAX_FAILED_CODES,
    SOCIAL,
    Refused,
    Session,
    events_in_words,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def room(clock: Clock) -> Session:
    return Session(worlds=2, seed=5, max_students=8, round_seconds=30, clock=clock)


def refused(status: int, call, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused) as caught:
        call(*args, **kwargs)
    assert caught.value.status == status, caught.value.message
    return caught.value.message


def test_a_played_customer_moves_only_by_its_person() -> None:
    model = TrustModel(small({"market.review_rate": 0.5, "market.p_ad": 0.3}), seed=2)
    start = model.state.provider.copy()
    model.play(7)
    for _ in range(20):
        model.step()
    assert model.state.provider[7] == start[7]  # the logit never moved it
    assert (model.state.provider != start).mean() > 0.3  # while others did move
    target = 1 if start[7] != 1 else 0
    model.choose(7, target)
    model.step()
    assert model.state.provider[7] == target
    assert model.state.tenure[7] == 1 and not model.state.cohort[7]
    model.choose(7, NO_PROVIDER)
    model.step()
    assert model.state.provider[7] == NO_PROVIDER
    with pytest.raises(ValueError, match="not played"):
        model.choose(8, 0)


def test_a_switch_is_counted_as_churn_and_acquisition() -> None:
    no_search = {"market.review_rate": 0.0, "market.warn_search": 0.0, "market.failure_search": 0.0}
    model = TrustModel(small({**no_search, "market.p_ad": 0.0}), seed=4)
    node = int(np.flatnonzero(model.state.provider == 0)[0])
    model.play(node)
    model.step()
    base = model.ledger
    model.choose(node, 1)
    model.step()
    assert model.ledger.churns[0] >= 1 and model.ledger.acquisitions[1] >= 1
    # with no search of any kind, the person's switch is the only move of the week
    assert model.ledger.churns.sum() == 1 and base.churns.sum() == 0


def test_wrong_codes_are_refused_and_rate_limited(room: Session, clock: Clock) -> None:
    for _ in range(MAX_FAILED_CODES):
        refused(403, room.join, "WRONG", "ann", "10.0.0.2")
    # now even the right code waits, for this device only
    refused(429, room.join, room.code, "ann", "10.0.0.2")
    room.join(room.code, "bob", "10.0.0.3")
    clock.now += 61
    assert room.join(room.code.lower(), "ann", "10.0.0.2").nickname == "ann"


def test_nicknames_are_checked(room: Session) -> None:
    refused(400, room.join, room.code, "", "c")
    refused(400, room.join, room.code, "x" * 21, "c")
    refused(400, room.join, room.code, "bell\x07", "c")
    room.join(room.code, "  Ann   Lee ", "c")
    assert refused(409, room.join, room.code, "ann lee", "d").startswith("the nickname")
    # stored as typed (the pages show it as text, never as HTML)
    assert room.join(room.code, "<b>x</b>", "e").nickname == "<b>x</b>"


def test_worlds_are_balanced_and_random(clock: Clock) -> None:
    firsts = set()
    for seed in range(8):
        room = Session(worlds=3, seed=seed, max_students=30, clock=clock)
        joined = [room.join(room.code, f"s{k}", f"c{k}") for k in range(14)]
        sizes = [len(w.students) for w in room.worlds]
        assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 14
        assert [w.condition for w in room.worlds] == [INDEPENDENT, SOCIAL, SOCIAL]
        nodes = [(s.world, s.node) for s in joined]
        assert len(set(nodes)) == len(nodes)  # one student per node
        firsts.add(joined[0].world)
    assert len(firsts) > 1  # the first student does not always land in the same world


def test_the_room_has_a_cap(room: Session) -> None:
    for k in range(room.max_students):
        room.join(room.code, f"s{k}", f"c{k}")
    assert "full" in refused(409, room.join, room.code, "late", "z")


def test_a_rejoin_restores_the_node(room: Session) -> None:
    ann = room.join(room.code, "ann", "c")
    again = room.join("anything", "whatever", "other-device", secret=ann.secret)
    assert (again.world, again.node, again.number) == (ann.world, ann.node, ann.number)
    assert len(room.students) == 1


def test_teacher_controls_need_the_token(room: Session) -> None:
    calls = (room.start, room.next_round, room.end, room.overview, room.export, room.comparison)
    for call in calls:
        refused(403, call, "not-the-token")
        refused(403, call, None)
        refused(403, call, "tökén")  # any text is compared safely
    refused(403, room.shock, "guess", "breach", "short_term")
    refused(403, room.set_timer, "guess", 30)
    refused(403, room.set_auto, "guess", True)


def test_one_choice_per_student_per_round(room: Session) -> None:
    ann = room.join(room.code, "ann", "c")
    refused(409, room.choose, ann.secret, 1, "stay")  # not started
    room.start(room.token)
    refused(409, room.choose, ann.secret, 2, "stay")  # not the current round
    refused(400, room.choose, ann.secret, 1, "mystery_firm")
    refused(401, room.choose, "someone-else", 1, "stay")  # only one's own node
    room.choose(ann.secret, 1, "trust_first")
    refused(409, room.choose, ann.secret, 1, "leave")
    room.next_round(room.token)
    refused(409, room.choose, ann.secret, 1, "stay")  # a closed round stays closed
    world = room.worlds[ann.world].model
    assert world.config.firm_names[world.state.provider[ann.node]] == "trust_first"


def test_the_timer_falls_back_to_stay(room: Session, clock: Clock) -> None:
    ann, bob = room.join(room.code, "ann", "a"), room.join(room.code, "bob", "b")
    room.set_auto(room.token, True)
    room.start(room.token)
    before = {s.nickname: room.worlds[s.world].model.state.provider[s.node] for s in (ann, bob)}
    room.choose(ann.secret, 1, "leave")
    clock.now += 29
    room.tick()
    assert room.round == 1  # the timer has not run out
    clock.now += 2
    room.tick()
    assert room.round == 2
    rows = pd.DataFrame(room.choices)
    bob_row = rows[rows["student"] == bob.number].iloc[0]
    assert bob_row["choice"] == "stay" and bob_row["timed_out"]
    assert room.worlds[bob.world].model.state.provider[bob.node] == before["bob"]
    assert room.worlds[ann.world].model.state.provider[ann.node] == NO_PROVIDER


def test_auto_advance_closes_the_round_when_everyone_chose(room: Session) -> None:
    ann = room.join(room.code, "ann", "a")
    room.set_auto(room.token, True)
    room.start(room.token)
    room.choose(ann.secret, 1, "stay")
    assert room.round == 2


def test_worlds_show_what_their_condition_allows(room: Session) -> None:
    students = [room.join(room.code, f"s{k}", f"c{k}") for k in range(4)]
    room.start(room.token)
    for s in students:
        view = room.view(s.secret)
        social = room.worlds[s.world].condition == SOCIAL
        assert ("neighbours" in view and "ratings" in view) == social
        assert ("adverts" in view) == (not social)
    assert room.worlds[0].model.config.market.social_proof is False
    assert room.worlds[1].model.config.market.social_proof is True


def test_events_are_told_in_plain_words() -> None:
    model = TrustModel(small({"market.mistake_rate": 0.9, "market.discovery": 0.9}), seed=1)
    model.step()
    names = model.config.firm_names
    st = model.state
    warned = int(np.flatnonzero(st.warned)[0])
    assert any("warned you" in line for line in events_in_words(model, warned, names))
    exploited_unseen = np.flatnonzero(st.exploited & ~st.discovered)
    for node in exploited_unseen[:3]:  # a customer never hears of what it did not discover
        assert not any("add-on you did not need" in s for s in events_in_words(model, node, names))


def test_musiclab_comparison_and_export(room: Session) -> None:
    students = [room.join(room.code, f"s{k}", f"c{k}") for k in range(4)]
    room.start(room.token)
    for r in range(1, 4):
        for s in students:
            room.choose(s.secret, r, "stay")
        room.next_round(room.token)
    refused(409, room.comparison, room.token)  # only after the end
    room.end(room.token)
    assert room.phase == ENDED
    refused(409, room.join, room.code, "late", "z")
    table = room.comparison(room.token)
    assert list(table["condition"]) == [INDEPENDENT, SOCIAL]
    assert ((table["class Gini"] >= 0) & (table["class Gini"] <= 1)).all()
    assert (table["simulated U"] > 0).all() and table["class U"].isna().all()  # one world each
    choices = pd.read_parquet(io.BytesIO(room.export(room.token)))
    assert len(choices) == 4 * 3 and "nickname" not in choices.columns
    assert set(choices["student"]) == {1, 2, 3, 4}


def test_time_is_up_means_stay_even_without_auto_advance(room: Session, clock: Clock) -> None:
    ann = room.join(room.code, "ann", "a")
    room.start(room.token)
    clock.now += 31
    assert "time is up" in refused(409, room.choose, ann.secret, 1, "leave")
    room.next_round(room.token)
    row = room.choices[-1]
    assert row["choice"] == "stay" and row["timed_out"]


def test_a_choice_that_moves_nothing_is_a_stay(room: Session) -> None:
    ann = room.join(room.code, "ann", "a")
    room.start(room.token)
    model = room.worlds[ann.world].model
    provider = model.state.provider[ann.node]
    same = "leave" if provider < 0 else model.config.firm_names[provider]
    room.choose(ann.secret, 1, same)
    assert ann.choice == "stay"


def test_ending_mid_round_and_the_comparison_need_played_weeks(room: Session) -> None:
    ann = room.join(room.code, "ann", "a")
    room.start(room.token)
    room.choose(ann.secret, 1, "leave")
    room.end(room.token)
    assert room.weeks == 0 and "not played" in room.log[-2]
    assert "no week" in refused(409, room.comparison, room.token)
    assert room.choices == []  # the unplayed round left nothing to export


def test_shocks_hit_every_world_and_only_a_running_market(room: Session) -> None:
    refused(409, room.shock, room.token, "breach", "short_term")
    room.start(room.token)
    room.shock(room.token, "warning_month", "short_term")
    for world in room.worlds:
        assert world.model.config.firms[0].warn_rate == 1.0
    refused(400, room.shock, room.token, "meteor", "short_term")
    room.next_round(room.token)
    room.end(room.token)
    # the simulated worlds run the scenario as built, not the shocked live config
    assert room.worlds[1].model.settings.scenario().firms[0].warn_rate < 1.0


def test_the_room_fits_the_worlds() -> None:
    with pytest.raises(ValueError, match="max_students: 1 to 150"):
        Session(worlds=2, max_students=151)  # 2 worlds x half of 150 customers


def test_the_cli_refuses_a_room_that_does_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    from trustsim.cli import main

    assert main(["classroom", "--config", "classroom", "--max-students", "500"]) == 2
    assert "--max-students: 1 to 150" in capsys.readouterr().err
    assert main(["classroom", "--max-students", "500"]) == 2  # the lesson: worlds grow, so far
    assert "--max-students: 1 to 120 for a lesson" in capsys.readouterr().err


def test_the_rate_limit_is_five_wrong_codes_a_minute_as_stated(room: Session, clock: Clock) -> None:
    # the numbers the README and ODD 8b state, as literals (not the module's constants)
    for _ in range(5):
        refused(403, room.join, "WRONG", "ann", "10.0.0.9")
    refused(429, room.join, room.code, "ann", "10.0.0.9")  # the sixth try waits
    clock.now = 59.0
    refused(429, room.join, room.code, "ann", "10.0.0.9")  # still within the minute
    clock.now = 60.5
    assert room.join(room.code, "ann", "10.0.0.9").nickname == "ann"
