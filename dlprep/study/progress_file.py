"""The progress export format, declared: ``dlprep progress import`` checks a whole file
against it before anything is written, and names each problem by its JSON path.

Strict on purpose: a backup is machine-written, so ``"yes"`` for a boolean, a naive timestamp,
NaN, a rating outside 1-4 or an unknown field means the file is not what it claims to be.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from dlprep.study.schedule import moment_problem, state_problem
from dlprep.study.store import MAX_ANSWER_CHARS, MAX_DURATION_MS

if TYPE_CHECKING:
    from dlprep.study.store import Store

FORMAT = "dlprep-progress"
MAX_IMPORT_BYTES = 256 * 2**20  # about two million reviews
MAX_PROBLEMS = 5

Id = Annotated[str, Field(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=MAX_DURATION_MS)]


def _in_range(moment: datetime) -> datetime:
    problem = moment_problem(moment)
    if problem:
        raise ValueError(problem)
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
Number = Annotated[float, Field(allow_inf_nan=False, ge=0, le=1e9)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ReviewIn(_Strict):
    card_id: Id
    at: Moment
    rating: Annotated[int, Field(ge=1, le=4)]
    answer: Annotated[str, Field(max_length=MAX_ANSWER_CHARS)]
    duration_ms: Count
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z-]{0,19}$")]
    correct: bool | None = None  # absent in format version 1
    topic: Annotated[str, Field(max_length=200)] = ""


class StateIn(_Strict):
    """An FSRS card state as ``fsrs.Card.to_dict`` writes it."""

    card_id: Annotated[int, Field(ge=0, le=2**63)]
    state: Annotated[int, Field(ge=1, le=3)]  # learning, review, relearning
    step: Annotated[int, Field(ge=0, le=100)] | None = None
    stability: Number | None = None
    difficulty: Number | None = None
    due: Moment
    last_review: Moment | None = None

    @model_validator(mode="after")
    def _schedulable(self) -> StateIn:
        problem = state_problem(self.model_dump(mode="json"))
        if problem:
            raise ValueError(f"fsrs cannot schedule this state: {problem}")
        return self


class CardIn(_Strict):
    card_id: Id
    state: StateIn


class _Header(BaseModel):
    """Read first, leniently: a newer version is reported as such, not as unknown fields."""

    model_config = ConfigDict(strict=True, extra="ignore")
    format: Literal["dlprep-progress"]
    schema_version: Annotated[int, Field(ge=1, alias="schema")]


class ExportFile(_Strict):
    format: Literal["dlprep-progress"]
    schema_version: Annotated[int, Field(ge=1, alias="schema")]
    exported: Moment
    cards: Annotated[list[CardIn], Field(max_length=1_000_000)]
    reviews: Annotated[list[ReviewIn], Field(max_length=10_000_000)]

    def state_dicts(self) -> dict[str, Any]:
        """Card states in the form ``fsrs.Card.from_dict`` reads."""
        return {c.card_id: c.state.model_dump(mode="json") for c in self.cards}


class ExportError(ValueError):
    """An import file that does not match the declared format; the message names where."""


def json_path(loc: tuple[int | str, ...]) -> str:
    out = "$"
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


def parse_export(raw: bytes, newest: int) -> ExportFile:
    """Validate a whole export file (``newest``: the highest format version understood)."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise ExportError(too_big(len(raw)))
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a BOM some editors add: still UTF-8 JSON
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError(f"not UTF-8 text (byte {exc.start}: {exc.reason}); "
                          "an export is UTF-8 JSON") from None
    try:
        header = _Header.model_validate_json(raw)
    except ValidationError as exc:
        raise ExportError(_describe(exc)) from None
    if header.schema_version > newest:
        raise ExportError(f"$.schema: written by a newer dlprep (format version "
                          f"{header.schema_version}; this one reads up to {newest}); "
                          "upgrade dlprep to import it")
    try:
        return ExportFile.model_validate_json(raw)
    except ValidationError as exc:
        raise ExportError(_describe(exc)) from None


def too_big(size: int) -> str:
    """The message for a file of ``size`` bytes over the cap (its real size, not the cap)."""
    shown = f"{size / 2**20:.1f}" if size < 10 * 2**20 else f"{size / 2**20:,.0f}"
    more = " or more" if size == MAX_IMPORT_BYTES + 1 else ""  # read only that far
    return f"the file is {shown} MB{more}; an export is at most {MAX_IMPORT_BYTES // 2**20} MB"


def parse_python(data: Any, newest: int) -> ExportFile:
    """:func:`parse_export` for data already loaded (as strictly: it goes through JSON)."""
    try:
        raw = json.dumps(data, allow_nan=False, default=_refuse).encode()
    except (ValueError, TypeError) as exc:
        raise ExportError(f"not JSON data: {exc}") from None
    return parse_export(raw, newest)


def _refuse(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    for err in errors:
        if err["type"] == "json_invalid":  # no path: the text is not JSON at all
            return f"not valid JSON: {err['msg'].removeprefix('Invalid JSON: ')}"
    wrong_kind = [err for err in errors if tuple(err["loc"])[:1] in ((), ("format",))]
    if wrong_kind:  # not an export at all: its other fields are beside the point
        errors = wrong_kind[:1]
    lines = [f"{json_path(tuple(err['loc']))}: {_message(err)}" for err in errors[:MAX_PROBLEMS]]
    more = len(errors) - MAX_PROBLEMS
    if more > 0:
        lines.append(f"... and {more} more problem(s)")
    return "; ".join(lines)


def _message(err: Any) -> str:
    if tuple(err["loc"])[:1] in ((), ("format",)):
        return f"not a dlprep progress export (expected \"format\": \"{FORMAT}\")"
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "value_error":  # our own check: its message says what it got
        return str(err["msg"]).removeprefix("Value error, ")
    shown = repr(err.get("input"))
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{err['msg']} (got {shown})"



def merge(store: Store, data: ExportFile | Any) -> tuple[int, int]:
    """Merge an export (an ``ExportFile`` or the same as plain data) into ``store``.

    New reviews are appended (one with the same card, time and rating as one already present,
    or earlier in the file, is not added twice); a card's newer state wins. One transaction:
    nothing is written unless all of it is. Returns (reviews added, card states taken).
    """
    import fsrs

    from dlprep.study.store import SCHEMA_VERSION, StoreError, iso

    if not isinstance(data, ExportFile):
        try:
            data = parse_python(data, SCHEMA_VERSION)
        except ExportError as exc:
            raise StoreError(str(exc)) from None
    try:
        states = {cid: fsrs.Card.from_dict(d) for cid, d in data.state_dicts().items()}
    except (TypeError, KeyError, ValueError) as exc:
        raise StoreError(f"$.cards: malformed card state: {exc}") from None
    with store.transaction() as conn:
        seen = {(r.card_id, iso(r.at), r.rating) for r in store.reviews()}
        added = 0
        for r in data.reviews:
            key = (r.card_id, iso(r.at), r.rating)
            if key in seen:
                continue
            seen.add(key)
            conn.execute(
                "INSERT INTO reviews (card_id, at, rating, answer, duration_ms, kind,"
                " correct, topic) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (r.card_id, iso(r.at), r.rating, r.answer, r.duration_ms, r.kind,
                 None if r.correct is None else int(r.correct), r.topic),
            )
            added += 1
        mine = store.states()
        taken = 0
        for cid, state in states.items():
            old = mine.get(cid)
            if old is None or (state.last_review or state.due) > (old.last_review or old.due):
                store.put_state(cid, state, state.last_review or state.due)
                taken += 1
    return added, taken
