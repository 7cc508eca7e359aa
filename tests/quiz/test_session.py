"""Session planning, the shared session loop, mock interview timing, and statistics."""

from __future__ import annotations

import random
from datetime import date, timedelta

from dlprep.bank.loader import Bank
from dlprep.study import stats as study_stats
from dlprep.study.grading import Rating
from dlprep.study.kinds import kind_of
from dlprep.study.plan import Spec, plan
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.session import Session
from dlprep.study.store import Store


def _right_answer(session: Session) -> object:
    shown = session.current()
    assert shown is not None
    card = shown.card
    kind = card.type
    if kind == "mcq":
        return card.answer
    if kind == "multi":
        return list(card.answers)
    if kind == "truefalse":
        return card.answer
    if kind == "numeric":
        return f"{shown.expected} {card.unit}"
    if kind == "order":
        return [i if isinstance(i, str) else i.en for i in card.items]
    return Rating.Easy


def test_due_session_schedules_and_logs(bank: Bank, store: Store, scheduler: Scheduler,
                                        clock: ManualClock) -> None:
    # All new: they take turns by topic in the map's order (activations, optimizers, memory),
    # easiest first within a topic.
    mixed = Session(bank.cards, store, scheduler, Spec(length=8), rng=random.Random(1))
    assert mixed.queue == ["t-mcq", "t-recall", "t-numeric", "t-myth", "t-order", "t-template",
                           "t-multi", "t-demo"]
    session = Session(bank.cards, store, scheduler, Spec(length=3, topics=("activations",)),
                      rng=random.Random(1))
    assert session.queue == ["t-mcq", "t-myth", "t-multi"]
    session.current()
    clock.advance(2)
    fast = session.answer(_right_answer(session))
    assert fast.grade.correct and fast.rating is Rating.Easy and fast.next_due is not None
    session.current()
    clock.advance(60)
    slow = session.answer(_right_answer(session))
    assert slow.rating is Rating.Good
    wrong = session.answer(["ReLU"] if session.current().kind == "multi" else True)
    assert wrong.rating is Rating.Again and not session.done
    logged = store.reviews()
    assert [(r.card_id, r.rating, r.kind) for r in logged] == [
        ("t-mcq", 4, "due"), ("t-myth", 3, "due"), ("t-multi", 1, "due")]
    assert logged[1].duration_ms == 60_000
    # Nothing reviewed is due again right now; only the unseen cards are.
    again = plan(bank.cards, store.states(), Spec(length=50), scheduler, clock(), random.Random())
    assert set(again) == set(bank.cards) - {"t-mcq", "t-multi", "t-myth"}
    clock.advance(61)  # Again brings a card back after the first learning step
    due = plan(bank.cards, store.states(), Spec(), scheduler, clock(), random.Random())
    assert "t-multi" in due
    # ... and within this session too: the wrong card (its 1-minute step is due) comes back,
    # then, learning ahead since nothing else is left, the new card rated Good (its second
    # step is 10 minutes away); answered fast and right, both graduate and the session ends.
    assert session.total == 5 and session.current().card_id == "t-multi"
    assert session.answer(_right_answer(session)).rating is Rating.Easy and not session.done
    assert session.current().card_id == "t-myth"
    assert session.answer(_right_answer(session)).rating is Rating.Easy and session.done
    summary = session.summary()
    assert (summary.cards, summary.right, summary.again, summary.answers) == (3, 2, 2, 5)


def test_cram_leaves_the_schedule_alone(bank: Bank, store: Store, scheduler: Scheduler) -> None:
    session = Session(bank.cards, store, scheduler, Spec(mode="cram", length=2, topics=("memory",)))
    assert {bank.cards[c].topic for c in session.queue} == {"memory"}
    outcome = session.answer(_right_answer(session))
    assert outcome.next_due is None and store.states() == {}
    assert [r.kind for r in store.reviews()] == ["cram"]


def test_until_front_loads_cards_due_after_the_interview(
    bank: Bank, store: Store, scheduler: Scheduler, clock: ManualClock
) -> None:
    session = Session(bank.cards, store, scheduler, Spec(length=50))
    while not session.done:
        session.current()
        clock.advance(1)
        session.answer(_right_answer(session))  # all Easy: due in days
    clock.advance(3600)
    assert plan(bank.cards, store.states(), Spec(), scheduler, clock(), random.Random()) == []
    interview = clock().date() + timedelta(days=1)
    early = plan(bank.cards, store.states(), Spec(until=interview), scheduler, clock(),
                 random.Random())
    assert sorted(early) == sorted(bank.cards)


def test_mock_interview_countdown_and_report(bank: Bank, store: Store, scheduler: Scheduler,
                                             clock: ManualClock) -> None:
    spec = Spec(mode="mock", mock_cards=4, mock_seconds_per_card=30)
    session = Session(bank.cards, store, scheduler, spec, rng=random.Random(2))
    assert len(session.queue) == 4
    assert len({bank.cards[c].topic for c in session.queue}) == 3  # spread across topics
    session.current()
    assert session.seconds_left() == 120
    clock.advance(20)
    session.answer(_right_answer(session))
    session.current()
    clock.advance(40)
    session.answer(_right_answer(session))
    assert session.seconds_left() == 60 and not session.done
    clock.advance(61)
    assert session.done and session.current() is None
    report = session.report()
    assert sum(t.answered for t in report) == 2
    assert sorted(t.mean_seconds for t in report) in ([20.0, 40.0], [30.0])
    assert report[0].correct == report[0].answered
    assert {r.kind for r in store.reviews()} == {"mock"} and len(store.states()) == 2


def test_stats(bank: Bank, store: Store, scheduler: Scheduler, clock: ManualClock) -> None:
    for _day in range(3):
        session = Session(bank.cards, store, scheduler, Spec(mode="cram", length=50))
        seen: set[str] = set()
        while not session.done:
            shown = session.current()
            clock.advance(30)
            # Wrong on activations at first sight (the card then comes back, and is
            # answered right), always right elsewhere.
            wrong = {"mcq": "(-1, 1)", "multi": ["ReLU"], "truefalse": True}
            first = shown.card_id not in seen
            seen.add(shown.card_id)
            activations = shown.card.topic == "activations"
            session.answer(wrong[shown.kind] if activations and first
                           else _right_answer(session))
        assert session.summary().again >= 3  # each activations card came back
        clock.advance(86400 - 30 * len(session.outcomes))
    later = clock() + timedelta(days=2)
    result = study_stats.compute(bank.cards, store.states(), store.reviews(), scheduler, later)
    assert result.streak == 0  # two days without a review break the streak
    yesterday = clock() - timedelta(days=1)
    result = study_stats.compute(bank.cards, store.states(), store.reviews(), scheduler, yesterday)
    assert result.streak == 3
    assert study_stats.compute(bank.cards, {}, store.reviews(), scheduler, clock()).streak == 3
    by_topic = {t.topic: t for t in result.topics}
    # each activations card: wrong, then right twice (its two learning steps) in a session
    assert by_topic["activations"].accuracy == 2 / 3 and by_topic["memory"].accuracy == 1.0
    assert result.weakest == ["activations"]
    assert result.suggestion[:2] == ["--topic", "activations"]
    assert len(result.forecast) == 14 and result.forecast[0][0] == yesterday.date()


def test_forecast_counts_due_days(bank: Bank, store: Store, scheduler: Scheduler,
                                  clock: ManualClock) -> None:
    session = Session(bank.cards, store, scheduler, Spec(length=50))
    while not session.done:
        session.current()
        clock.advance(1)
        session.answer(_right_answer(session))
    forecast = study_stats.forecast(store.states(), clock(), set(bank.cards))
    assert sum(n for _, n in forecast) == len(bank.cards)
    assert forecast[0][1] == 0 and forecast[0][0] == date(2026, 3, 2)


def test_stats_agree_new_is_not_due_and_retention_counts_mature_reviews(
        bank: Bank, store: Store, scheduler: Scheduler, clock: ManualClock) -> None:
    from dlprep.study.store import Review

    start = clock()
    # one card reviewed twice 30 days apart (a mature review, recalled), one wrong once
    store.record(Review("t-mcq", start, 3, "x", 1000, "due", True, "activations"),
                 lambda s: scheduler.review(s, Rating.Good, start, 1000))
    later = start + timedelta(days=30)
    store.record(Review("t-mcq", later, 3, "x", 1000, "due", True, "activations"),
                 lambda s: scheduler.review(s, Rating.Good, later, 1000))
    store.record(Review("t-numeric", later, 1, "9 MB", 1000, "due", False, "memory"),
                 lambda s: scheduler.review(s, Rating.Again, later, 1000))
    result = study_stats.compute(bank.cards, store.states(), store.reviews(), scheduler,
                                 later + timedelta(days=1))
    by_topic = {t.topic: t for t in result.topics}
    memory = by_topic["memory"]
    assert memory.new == memory.cards - 1 and memory.due == 1  # new cards are not "due"
    assert memory.accuracy == 0.0 and memory.retention is None  # nothing mature yet
    assert by_topic["activations"].retention == 1.0  # one mature review, recalled
    assert "memory" in result.weakest  # one wrong answer is enough to be suggested
    due_today = result.forecast[0][1]
    assert due_today == sum(t.due for t in result.topics)  # Home and forecast agree
    # a review of a card whose topic left the bank (a removed user bank): the totals stay
    # the sum of the rows shown; the streak still counts the day
    store.record(Review("gone", later, 1, "x", 1000, "due", False, "removed-topic"), None)
    again = study_stats.compute(bank.cards, store.states(), store.reviews(), scheduler,
                                later + timedelta(days=1))
    assert again.reviews == sum(t.reviews for t in again.topics) == 3
    assert again.graded == sum(t.graded for t in again.topics)


def test_rating_keys_promise_the_interval_the_rating_gives(bank: Bank, store: Store,
                                                           clock: ManualClock) -> None:
    """FSRS fuzzes intervals of 2.5+ days at random: the interval shown on each rating key
    is the one that rating really gives, when first answered and after a re-rating."""
    fuzzed = Scheduler(clock, fuzz=True)
    for _ in range(8):
        session = Session(bank.cards, store, fuzzed, Spec(length=8))
        # the planned cards (ending each on Hard keeps a new card on its learning step)
        while session.unanswered and (shown := session.current()) is not None:
            outcome = session.answer(kind_of(shown.card).example(shown, True))
            preview = session.preview(outcome)
            assert preview[outcome.rating] == outcome.next_due
            for rating in (Rating.Good, Rating.Easy, Rating.Hard):
                if rating != session.outcomes[-1].rating:
                    again = session.rerate(rating)
                    assert again is not None and again.next_due == preview[rating]
                    assert session.preview(again) == preview
            clock.advance(30)
        clock.advance(86400 * 30)  # the next round reviews cards in the Review state


def test_a_revealed_recall_card_keeps_the_intervals_its_rating_keys_showed(
        bank: Bank, store: Store, clock: ManualClock) -> None:
    fuzzed = Scheduler(clock, fuzz=True)
    for round_ in range(6):
        session = Session(bank.cards, store, fuzzed, Spec(length=1, topics=("optimizers",)),
                          queue=["t-recall"])
        session.current()
        clock.advance(5)
        waits = session.reveal()
        assert set(waits) == set(Rating) and waits[Rating.Again] < waits[Rating.Easy]
        clock.advance(40)  # reading the model answer before rating is not recall time
        rating = Rating.Easy if round_ % 2 else Rating.Good
        outcome = session.answer(rating)
        assert outcome.seconds == 5
        assert (outcome.next_due - outcome.at).total_seconds() == waits[rating]
        assert {r: (d - outcome.at).total_seconds()
                for r, d in session.preview(outcome).items()} == waits
        clock.advance(86400 * 20)
