"""GpuCollateral mirrors for tests: constants, revert reasons, and an independent reference of the
collateral schedule.

The contract keeps the sum of every counted GPU's value as one line `a - b * t`, with signed
changes ("nodes") at UTC midnights that it matures as the clock passes them. This module values
each GPU straight from the definition of its curve and adds the values up, so a wrong node, a
missed maturity or a rounding slip in the contract shows here as a difference to the wei:

- a curve is cost at `acquired_at`, falling in a straight line to salvage at its end of life,
  floor_day(acquired_at + min(useful_life, 50 years)) (the slope rounded up), salvage after;
- it is worth nothing from its stale day, floor_day(last_attested_at + STALENESS_WINDOW);
- a GPU that comes back (restored, or re-attested after going stale) ramps from 0 at `since` to
  its normal value at ramp_end = ceil_day(since + UNLOCK_PERIOD) (the rise rounded down);
- a mark to `v` at `t` (GpuAppraisals, through `revalue`) restarts the line from `v` at `t` down
  to min(salvage, v) at the same end of life; a rising mark ramps from where the GPU stood
  (`ramp_from`) instead of 0, the gap's rise rounded towards minus infinity; a GPU restored from
  IMPAIRED is first marked down to one step (MAX_MARK_STEP_BPS of the registry's book value)
  when it stood above it, then ramps from 0 as before;
- value_of = floor(curve * rate / (10_000 * 1e18)); the pool's value is
  floor(sum of curves * rate / (10_000 * 1e18)) minus one wei per counted GPU (at least 0);
- a counted GPU is "written down for a while" at `t` iff t >= stale_at or t < ramp_end (stale, or
  returning on its ramp);
- a GPU held is "held down" (`held_down()` counts each flag once) while it is IMPAIRED (set when a
  counted GPU is impaired, cleared when it is restored, retired or leaves), and while an open mark
  holds it below its straight line (set or cleared by each revalue's HELD flag, which
  GpuAppraisals raises for a mark below the registry's book value of an unsettled GPU; set when a
  restore marks it down to one step; cleared when it is retired or leaves). Entries
  (contributions, deposits, mints) wait while any GPU is written down or held down.

`Book` follows one pool through contributions, hooks, flows and maturities: which GPUs it counts,
their curves, which days carry a node and which of those are due. A node holds three changes at
its day: of the intercept sum, of the slope sum, and of the number of GPUs written down. A day is
marked when a curve adds a change there and forgotten when taking a curve out leaves its node
with no change at all (all three fields zero): emptied days are dropped, never left due.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from enum import IntEnum

from tests.utils.registry import book_value as registry_book_value

DAY = 86_400
YEAR = 365 * DAY
GRID = DAY
PRECISION = 10**18
BPS = 10_000
MAX_LIFE = 50 * YEAR
MAX_COST = 2**96
MIN_WINDOW = DAY
MAX_WINDOW = 365 * DAY
MAX_MATURE_STEPS = 16
MAX_VIEW_STEPS = 1_024
# A mark-up's largest step, and what a restored GPU returns to, in bps of the registry's book value.
MAX_MARK_STEP_BPS = 2_500
# GpuCollateral.revalue flags: marked down by a lease default (sticky); held below its line.
DEFAULTED = 8
HELD = 16

# IGpuRegistry.GpuStatus codes.
ACTIVE, LEASED, OFFLINE, IMPAIRED, RETIRED = 1, 2, 4, 8, 16
# Statuses in which a GPU keeps (or regains) its value.
COUNTING = (ACTIVE, LEASED, OFFLINE)

# Revert reasons.
NOT_REGISTRY = "collateral: caller is not the registry"
PENDING = "collateral: maturities pending; call process_maturities"
NOT_OWNER = "collateral: caller does not own the gpu"
ALREADY_HELD = "collateral: gpu already held"
NOT_ACTIVE = "collateral: gpu not active"
COST_TOO_LARGE = "collateral: cost too large"
NOT_HOLDER = "collateral: not a collateral holder on the registry"
STALE = "collateral: attestation stale; the custodian attests first"
PRICE_ABOVE_VALUE = "collateral: price above collateral value"
NOTHING_TO_SYNC = "collateral: nothing to sync"
NOT_HELD = "collateral: gpu not held"
ZERO_STEPS = "collateral: zero steps"
ENTRIES_WAIT = "collateral: entries wait: gpus stale, returning or held down"
WINDING_DOWN = "collateral: pool winding down"
ALREADY_WINDING_DOWN = "collateral: already winding down"
SELLER_NOT_VERIFIED = "identity: seller not verified"
INSUFFICIENT_CASH = "vault: insufficient free cash"
TOO_FEW_SHARES = "vault: slippage: too few shares"
NOT_APPROVED = "erc721: caller is not token owner or approved"


class State(IntEnum):
    """`position(id)[0]`."""

    NONE = 0
    COUNTED = 1
    UNCOUNTED = 2


class Pending(Exception):
    """What the contract refuses with PENDING."""


class EntriesWait(Exception):
    """What the contract refuses with ENTRIES_WAIT."""


def floor_day(t: int) -> int:
    return t // GRID * GRID


def ceil_day(t: int) -> int:
    return -(-t // GRID) * GRID


@dataclass(frozen=True)
class Terms:
    """IGpuRegistry.GpuTerms without the owner."""

    cost: int
    salvage: int
    acquired_at: int
    useful_life: int
    status: int
    last_attested_at: int

    @classmethod
    def of(cls, registry, token_id: int) -> Terms:
        return cls.read(registry.terms(token_id))

    @classmethod
    def read(cls, t) -> Terms:
        """From a `registry.terms(id)` result."""
        return cls(
            t.cost, t.salvage, t.acquired_at, t.useful_life, int(t.status), t.last_attested_at
        )

    @property
    def end(self) -> int:
        """End of life on the grid: the line reaches salvage there."""
        return floor_day(self.acquired_at + min(self.useful_life, MAX_LIFE))

    def stale_at(self, window: int) -> int:
        return floor_day(self.last_attested_at + window)

    def book_value(self, t: int) -> int:
        """The registry's straight-line `book_value` at `t` (tests/utils/registry's reference)."""
        spec = {
            "acquisition_cost": self.cost,
            "salvage_value": self.salvage,
            "acquired_at": self.acquired_at,
            "useful_life": self.useful_life,
        }
        return registry_book_value(spec, t, self.status)

    def step(self, t: int) -> int:
        """A mark-up's largest rise at `t`, and what a restored GPU returns to."""
        return self.book_value(t) * MAX_MARK_STEP_BPS // BPS


@dataclass(frozen=True)
class Mark:
    """An appraiser's mark (`appraisal(id)[:2]`): book value `value` from time `at`."""

    value: int
    at: int


@dataclass(frozen=True)
class Curve:
    """One counted GPU's value over time, scaled by PRECISION (see the module docstring)."""

    cost: int
    salvage: int
    start: int
    end: int
    since: int
    ramp_end: int
    stale_at: int
    # Book value (unscaled) the ramp starts from at `since`: 0, or where a rising mark found it.
    ramp_from: int = 0

    @classmethod
    def of(
        cls,
        terms: Terms,
        window: int,
        since: int,
        ramp_end: int = 0,
        mark: Mark | None = None,
        ramp_from: int = 0,
    ) -> Curve:
        """The registry's cost line, or after a mark the line from the mark."""
        return cls(
            cost=terms.cost if mark is None else mark.value,
            salvage=terms.salvage if mark is None else min(terms.salvage, mark.value),
            start=terms.acquired_at if mark is None else mark.at,
            end=terms.end,
            since=since,
            ramp_end=ramp_end,
            stale_at=terms.stale_at(window),
            ramp_from=ramp_from,
        )

    @property
    def slope(self) -> int:
        """The line's fall a second, rounded up (only meaningful when end > start)."""
        span = self.end - self.start
        return -(-(self.cost - self.salvage) * PRECISION // span)

    def normal(self, t: int) -> int:
        """Line then salvage, never below zero."""
        if t >= self.end:
            return self.salvage * PRECISION
        return max(0, self.cost * PRECISION - self.slope * (t - self.start))

    @property
    def rise(self) -> int:
        """The ramp's change a second from `ramp_from` to the line at its end, rounded towards
        minus infinity."""
        gap = self.normal(self.ramp_end) - self.ramp_from * PRECISION
        return gap // (self.ramp_end - self.since)

    def book(self, t: int) -> int:
        """`book_of`: where the curve stands at `t` in book value, stale or not (floor)."""
        return scale(replace(self, stale_at=2**256).scaled(t), BPS)

    def scaled(self, t: int) -> int:
        """The curve at `t` (signed: a line with zero salvage may dip a hair below zero)."""
        if t >= self.stale_at:
            return 0
        if t < self.ramp_end:
            return self.ramp_from * PRECISION + self.rise * (t - self.since)
        if t < self.end:
            return self.cost * PRECISION - self.slope * (t - self.start)
        return self.salvage * PRECISION

    def line(self, t: int) -> tuple[int, int]:
        """(a, b) of the piece in force at `t`, the curve being `a - b * t` there: how the
        contract keeps it. Used for its node changes and sums, never for values."""
        if t >= self.stale_at:
            return 0, 0
        if t < self.ramp_end:
            return self.ramp_from * PRECISION - self.rise * self.since, -self.rise
        if t < self.end:
            return self.cost * PRECISION + self.slope * self.start, self.slope
        return self.salvage * PRECISION, 0

    def down(self, t: int) -> int:
        """1 if written down for a while at `t` (stale, or returning on its ramp), else 0."""
        return 1 if t >= self.stale_at or t < self.ramp_end else 0

    def node(self, t: int) -> tuple[int, int, int]:
        """(a, b, written down) in force at `t`: what a node changes."""
        return (*self.line(t), self.down(t))

    def change(self, t: int) -> tuple[int, int, int]:
        """The change of `node` at grid time `t` (zero where nothing changes)."""
        after, before = self.node(t), self.node(t - 1)
        return after[0] - before[0], after[1] - before[1], after[2] - before[2]

    def changes_after(self, cursor: int) -> list[int]:
        """Grid times after `cursor` (up to the stale day) where the piece in force or the
        written-down state changes: where the curve puts a change in a node."""
        points = sorted({self.ramp_end, self.end, self.stale_at})
        return [p for p in points if cursor < p <= self.stale_at and self.change(p) != (0, 0, 0)]


def scale(scaled: int, rate_bps: int) -> int:
    """A scaled book value, clamped at zero, at the advance rate, in wei (floor)."""
    return max(0, scaled) * rate_bps // (BPS * PRECISION)


@dataclass
class Position:
    state: State
    curve: Curve | None = None
    # The appraiser's last mark (None: the registry's cost line), kept while uncounted.
    mark: Mark | None = None
    # Marked down by a lease default (GpuAppraisals.mark_default).
    defaulted: bool = False
    # Held down (each counts once in `held_down()`): below its straight line by an open mark
    # (the contract's _HELD), and IMPAIRED (its _IMPAIRED_HELD). Both survive curve changes.
    held: bool = False
    impaired_held: bool = False

    def appraisal(self) -> tuple[int, int, bool, int]:
        """`appraisal(id)`: mark value and time (0, 0: none), defaulted, the ramp's start."""
        mark = self.mark or Mark(0, 0)
        ramp_from = self.curve.ramp_from if self.state == State.COUNTED else 0
        return mark.value, mark.at, self.defaulted, ramp_from

    def fields(self) -> tuple[int, int, int, int]:
        """`position(id)`: state, since, ramp_end, stale_at."""
        if self.state != State.COUNTED:
            return int(self.state), 0, 0, 0
        c = self.curve
        return int(self.state), c.since, c.ramp_end, c.stale_at


@dataclass
class Book:
    """The reference of one pool's collateral: positions, curves, the days that carry a node, and
    how far the schedule has matured."""

    rate_bps: int
    window: int
    unlock: int
    positions: dict[int, Position] = field(default_factory=dict)
    # Grid times that carry a node: marked when a curve adds a change there (even one that
    # cancels another), forgotten when taking a curve out leaves no change there at all (a moved
    # stale day, a GPU out, a curve replaced): intercept, slope and gpus all zero. Matured days
    # stay, behind `matured`.
    days: set[int] = field(default_factory=set)
    # The last node time matured (0: none yet).
    matured: int = 0
    # Every node matured, in order, as ScheduleMatured's (at, intercept, slope, gpus).
    matured_log: list[tuple[int, int, int, int]] = field(default_factory=list)
    # How often each change happened: "in" (a GPU came in), "ramp" (came back), "move" (stale
    # day moved), "out" (impaired or retired), "mark" (revalued): what a random run went through.
    history: Counter = field(default_factory=Counter)
    # Every GpuRevalued, in order: (token_id, book_value, previous, ramp_end).
    revalued_log: list[tuple[int, int, int, int]] = field(default_factory=list)
    # GpuAppraisals' `settled` ids (no mark-up, marks hold nothing): the appraisals' state, kept
    # here so that a fork copies it; it outlives the GPU's position (a GPU bought back stays so).
    settled: set[int] = field(default_factory=set)

    # NODES #

    def due(self, now: int) -> list[int]:
        return sorted(d for d in self.days if self.matured < d <= now)

    def _first_due(self, now: int) -> int | None:
        return min((d for d in self.days if self.matured < d <= now), default=None)

    def pending(self, now: int) -> int:
        """`pending()`: due nodes, counted up to 17."""
        return min(len(self.due(now)), MAX_MATURE_STEPS + 1)

    def head(self) -> int:
        """The next node not matured (0: none), as `schedule_state()[0]`."""
        later = [d for d in self.days if d > self.matured]
        return min(later) if later else 0

    def is_current(self, now: int) -> bool:
        return self._first_due(now) is None

    def cursor(self, now: int) -> int:
        """A time at which the contract's sums are the pieces in force: now when current, else
        just before the first due node."""
        first = self._first_due(now)
        return now if first is None else first - 1

    def mature(self, now: int, max_steps: int) -> list[tuple[int, int, int, int]]:
        """Mature up to `max_steps` due nodes; returns the ScheduleMatured fields of each
        (at, intercept, slope, gpus), in order."""
        done = [(at, *self.delta(at)) for at in self.due(now)[:max_steps]]
        if done:
            self.matured = done[-1][0]
        self.matured_log += done
        return done

    def delta(self, at: int) -> tuple[int, int, int]:
        """The changes at node `at` (ScheduleMatured / `nodes(at)`): of the intercept sum, the
        slope sum and the number of GPUs written down, from the curves counted now (curves
        taken out left nothing behind)."""
        a = b = gpus = 0
        for c in self.curves():
            da, db, dg = c.change(at)
            a, b, gpus = a + da, b + db, gpus + dg
        return a, b, gpus

    def sums(self, now: int) -> tuple[int, int]:
        """(intercept_sum, slope_sum): the pieces in force at the cursor."""
        cursor = self.cursor(now)
        lines = [c.line(cursor) for c in self.curves()]
        return sum(a for a, _ in lines), sum(b for _, b in lines)

    def schedule_state(self, now: int) -> tuple[int, int, int]:
        """`schedule_state()`: the next node not matured (0: none), the GPUs counted, and how
        many of them are written down at the cursor (as of the last node matured)."""
        cursor = self.cursor(now)
        return self.head(), self.counted(), sum(c.down(cursor) for c in self.curves())

    def make_current(self, now: int) -> list[tuple[int, int, int, int]]:
        """What every flow does first: mature up to 16, refuse if more are due."""
        done = self.mature(now, MAX_MATURE_STEPS)
        if not self.is_current(now):
            raise Pending
        return done

    # CHANGES #

    def _add(self, token_id: int, curve: Curve, now: int) -> None:
        self.days.update(curve.changes_after(self.cursor(now)))
        kept = self.positions.get(token_id, Position(State.NONE))
        self.positions[token_id] = replace(kept, state=State.COUNTED, curve=curve)

    def _drop(self, token_id: int, now: int) -> None:
        """Take a counted curve out: each day where it had a change and whose node is left with
        no change at all (intercept, slope and gpus all zero) is forgotten (the head moves on);
        a day another curve still changes at stays."""
        curve = self.positions[token_id].curve
        self.positions[token_id] = replace(
            self.positions[token_id], state=State.UNCOUNTED, curve=None
        )
        for day in curve.changes_after(self.cursor(now)):
            if self.delta(day) == (0, 0, 0):
                self.days.discard(day)

    def bring_in(self, token_id: int, terms: Terms, now: int, entry: bool) -> tuple[int, int]:
        """contribute (`entry`: fractions are minted against it) or `admit` (the market's
        purchase with cash, an RMA's replacement): (value added, value before). Call
        `make_current` first. An entry raises EntriesWait while a GPU is written down or held
        down."""
        assert self.is_current(now)
        if entry and self.entries_wait(now):
            raise EntriesWait
        before = self.value(now)
        self._add(token_id, Curve.of(terms, self.window, now), now)
        self.history["in"] += 1
        return max(0, self.value(now) - before), before

    def uncount(self, token_id: int, now: int, status: int) -> int:
        """IMPAIRED or RETIRED (`status`): out at once. IMPAIRED holds entries until it is
        restored or retired (an open mark's hold stays); RETIRED holds nothing any more. Returns
        the value that left (GpuUncounted.value)."""
        removed = self.value_of(token_id, now)
        self._drop(token_id, now)
        position = self.positions[token_id]
        position.impaired_held = status == IMPAIRED
        position.held = position.held and status == IMPAIRED
        self.history["out"] += 1
        return removed

    def release(self, token_id: int, now: int) -> int:
        """`release` (the market's sale, an RMA's failed GPU): the schedule made current, the GPU
        out of it and its position (mark included) gone. Returns its collateral value then
        (GpuReleased.value)."""
        self.make_current(now)
        value = self.value_of(token_id, now)
        if self.positions[token_id].state == State.COUNTED:
            self._drop(token_id, now)
        del self.positions[token_id]
        self.history["release"] += 1
        return value

    def recount(self, token_id: int, terms: Terms, now: int, strict: bool) -> bool:
        """A fresh attestation or a restored status; returns whether the position changed."""
        position = self.positions[token_id]
        if terms.status not in COUNTING:
            return False
        stale_at = terms.stale_at(self.window)
        if stale_at <= now:
            return False
        if position.state == State.COUNTED and position.curve.stale_at > now:
            if stale_at <= position.curve.stale_at:
                return False
            # Still counting: only the future stale day moves (at the cursor, current or not).
            self._drop(token_id, now)
            self._add(token_id, replace(position.curve, stale_at=stale_at), now)
            self.history["move"] += 1
            return True
        if strict:
            self.make_current(now)
        else:
            self.mature(now, MAX_MATURE_STEPS)
            if not self.is_current(now):
                return False
        ramp_end = ceil_day(now + self.unlock)
        if position.state == State.COUNTED:
            self._drop(token_id, now)
        else:
            # Restored from IMPAIRED: back to at most one step of its book value, as a mark that
            # holds entries (below its line); at or below one step already, its mark's hold stays.
            position.impaired_held = False
            step = terms.step(now)
            if Curve.of(terms, self.window, 0, mark=position.mark).book(now) > step:
                position.mark = Mark(step, now)
                position.held = True
                self.revalued_log.append((token_id, step, 0, ramp_end))
        self._add(token_id, Curve.of(terms, self.window, now, ramp_end, position.mark), now)
        self.history["ramp"] += 1
        return True

    def revalue(
        self, token_id: int, terms: Terms, value: int, rising: bool, flags: int, now: int
    ) -> int:
        """GpuCollateral.revalue (the appraisals' mark): the curve restarts from `value` at
        `now`, at once or (`rising`) ramping from where it stood; `flags` DEFAULTED flags it
        (for good), HELD sets the mark's hold and its absence clears it (an impairment's hold
        stays). Returns where it stood (`previous`); logs (token_id, value, previous, ramp_end)
        as GpuRevalued."""
        previous = self.book_of(token_id, terms, now)
        ramp_end = ceil_day(now + self.unlock) if rising else 0
        counted = self.positions[token_id].state == State.COUNTED
        if counted:
            self.make_current(now)
            self._drop(token_id, now)
        position = self.positions[token_id]
        position.mark = Mark(value, now)
        position.defaulted = position.defaulted or bool(flags & DEFAULTED)
        position.held = bool(flags & HELD)
        if counted:
            curve = Curve.of(terms, self.window, now, ramp_end, position.mark, previous)
            self._add(token_id, curve, now)
        self.revalued_log.append((token_id, value, previous, ramp_end))
        self.history["mark"] += 1
        return previous

    def hold(self, token_id: int, terms: Terms, value: int, now: int) -> int:
        """GpuAppraisals' hold flag for a mark to `value` at `now`: HELD below the registry's
        book value then, unless the GPU's marks are settled."""
        return HELD if value < terms.book_value(now) and token_id not in self.settled else 0

    def settle(self, token_id: int, terms: Terms, now: int) -> int:
        """GpuAppraisals.settle: re-marked where it stands now, not rising (a ramp cut where it
        is), holding nothing; no mark-up afterwards. Returns that book value (MarkSettled)."""
        self.settled.add(token_id)
        value = self.book_of(token_id, terms, now)
        self.revalue(token_id, terms, value, False, 0, now)
        return value

    def on_status(self, token_id: int, terms: Terms, now: int) -> int | None:
        """The registry's status hook; returns the value removed if the GPU stopped counting."""
        position = self.positions.get(token_id)
        if position is None:
            return None
        if position.state == State.COUNTED and terms.status in (IMPAIRED, RETIRED):
            return self.uncount(token_id, now, terms.status)
        if position.state == State.UNCOUNTED and terms.status == ACTIVE:
            self.recount(token_id, terms, now, strict=False)
        elif position.state == State.UNCOUNTED and terms.status == RETIRED:
            # Retired for good: nothing of it comes back.
            position.held = position.impaired_held = False
        return None

    def on_attested(self, token_id: int, terms: Terms, now: int) -> bool:
        if token_id not in self.positions:
            return False
        return self.recount(token_id, terms, now, strict=False)

    def sync(self, token_id: int, terms: Terms, now: int) -> bool:
        """`sync`: True if it changed something (the contract reverts otherwise)."""
        position = self.positions[token_id]
        if position.state == State.COUNTED and terms.status in (IMPAIRED, RETIRED):
            self.uncount(token_id, now, terms.status)
            return True
        return self.recount(token_id, terms, now, strict=True)

    # VALUES #

    def curves(self) -> list[Curve]:
        return [p.curve for p in self.positions.values() if p.state == State.COUNTED]

    def counted(self) -> int:
        return len(self.curves())

    def book_of(self, token_id: int, terms: Terms, now: int) -> int:
        """`book_of(id)`: where a GPU held stands in book value at `now`, stale or not."""
        position = self.positions[token_id]
        if position.state == State.COUNTED:
            return position.curve.book(now)
        return Curve.of(terms, self.window, 0, mark=position.mark).book(now)

    def appraisal(self, token_id: int) -> tuple[int, int, bool, int]:
        return self.positions.get(token_id, Position(State.NONE)).appraisal()

    def value_of(self, token_id: int, now: int) -> int:
        position = self.positions.get(token_id)
        if position is None or position.state != State.COUNTED:
            return 0
        return scale(position.curve.scaled(now), self.rate_bps)

    def value(self, now: int) -> int:
        """`value()`: raises Pending where the view reverts (more than 1,024 due nodes, with a
        GPU counted: with none, it answers 0 without walking them)."""
        counted = self.counted()
        if counted and len(self.due(now)) > MAX_VIEW_STEPS:
            raise Pending
        total = scale(sum(c.scaled(now) for c in self.curves()), self.rate_bps)
        return total - counted if total > counted else 0

    def written_down(self, now: int) -> int:
        """`written_down()`: counted GPUs stale or on their ramp at `now`, due nodes included;
        raises Pending where the view reverts (more than 1,024 due nodes)."""
        if len(self.due(now)) > MAX_VIEW_STEPS:
            raise Pending
        return sum(c.down(now) for c in self.curves())

    def held_down(self) -> int:
        """`held_down()`: the hold flags set (each GPU counts once for an open mark below its
        line and once for being IMPAIRED)."""
        return sum(p.held + p.impaired_held for p in self.positions.values())

    def entries_wait(self, now: int) -> bool:
        """An entry (after maturing) refuses: a counted GPU written down, or a GPU held down."""
        return self.written_down(now) != 0 or self.held_down() != 0

    def entries_open(self, now: int) -> bool:
        """`entries_open()`: at most 16 due nodes, no counted GPU written down and none held
        down (the pool not winding down: the Book does not follow wind-down)."""
        return self.pending(now) <= MAX_MATURE_STEPS and not self.entries_wait(now)

    def counts(self, token_id: int, now: int) -> bool:
        position = self.positions.get(token_id)
        return (
            position is not None
            and position.state == State.COUNTED
            and position.curve.stale_at > now
        )

    def position(self, token_id: int) -> tuple[int, int, int, int]:
        return self.positions.get(token_id, Position(State.NONE)).fields()
