"""Appraisals of a pool's GPUs, through its GpuAppraisals: an appraiser (APPRAISER_ROLE on the
GpuRegistry) marks a GPU's book value, settles its marks or sets its recovery value; anyone shows
where a GPU stands.

The rules are the contract's (contracts/GpuAppraisals.vy): a mark at or below where the GPU
stands applies at once; a mark above it (a GPU the pool counts) is refused while the GPU is stale
or still returning from an earlier rise, rises at most MAX_MARK_STEP_BPS (25%) of its
straight-line book value, never above that book value (a value above it is taken as it, so a mark
lands on the line whatever second its block has), and returns over the pool's unlock period
(entries wait meanwhile). After a mark the value falls straight to the salvage value (at most the
mark) at the end of the GPU's life. While a mark (a default's too) stands below the GPU's
straight-line book value, entries wait (the collateral's `held_down`) until the appraiser settles
the GPU's marks (`settle`: its write-down final where it stands, never marked up again in this
pool), or the GPU is retired or sold, or a mark reaches that value. A recovery value is what a
lease default marks the GPU down to (salvage if none is set) and the sale floor of an impaired,
retired or defaulted GPU.

Every input crosses a pydantic model; everything the chain can tell is checked before sending,
with one line naming the problem (the largest mark allowed, the date a return ends); a reason is
stored on chain as its keccak256 hash, so the report it names stays off-chain.
"""

from dataclasses import dataclass, replace
from typing import Annotated

from ape import chain
from ape.api import AccountAPI, ReceiptAPI
from eth_utils import keccak
from pydantic import BeforeValidator, Field, ValidationInfo

from gpu_rwa.audit import Curve
from gpu_rwa.chain import send
from gpu_rwa.collateral import PRECISION, curve_of, terms_of
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import BPS, COUNTED, NOT_HELD, Hold, Pool, hold_of, require_current
from gpu_rwa.registry import Terms
from gpu_rwa.types import bounded_units, format_time

# A reason is a line of text (a report's name or reference), hashed on chain.
MAX_REASON = 1_000
# The mark pre-check computes the GPU's standing for a block this many seconds after the pending
# one: on its line both where it stands and its book value only fall, so a mark allowed then is
# allowed in any block mined sooner.
MARK_CHECK_MARGIN = 600
# What ends a GPU's holds on entries (the collateral's `held_down`), as the summaries say it
# (a mark back onto the straight-line book value ends a mark's hold too).
UNTIL_SETTLED = "until its marks are settled, or it is sold or retired"
UNTIL_RESTORED = "until restored and counted again, retired or sold"
WHILE_IMPAIRED = f"it holds entries while impaired, {UNTIL_RESTORED}"


def _book_units(value: object, info: ValidationInfo) -> int:
    # MAX_MONEY is GpuAppraisals.MAX_VALUE, the largest book or recovery value it takes.
    return bounded_units(value, (info.context or {})["decimals"], allow_zero=True)


BookAmount = Annotated[int, BeforeValidator(_book_units)]
"""A book value typed in stablecoin units ("12000.50"), 0 allowed, in base units (context:
`decimals`)."""


class _Reasoned(StrictModel):
    """A GPU and the reason an appraiser gives (a report's name or reference)."""

    token_id: int = Field(ge=1, alias="ID")
    reason: str = Field(min_length=1, max_length=MAX_REASON, alias="--reason")

    @property
    def reason_hash(self) -> bytes:
        """What the chain records: keccak256 of the reason's UTF-8 text."""
        return keccak(text=self.reason)


class Appraisal(_Reasoned):
    """`appraise mark|recovery ID VALUE --reason TEXT`."""

    value: BookAmount = Field(alias="VALUE")


class Settlement(_Reasoned):
    """`appraise settle ID --reason TEXT`."""


class GpuToShow(StrictModel):
    token_id: int = Field(ge=1, alias="ID")


@dataclass(frozen=True)
class Standing:
    """Where a GPU the pool holds stands (`show`), in stablecoin base units and UTC seconds."""

    token_id: int
    book_value: int  # the registry's straight-line book value now
    mark: int | None  # the appraiser's last mark (book value), None if never marked
    marked_at: int
    stands: int  # where it stands now (`book_of`): on its return ramp, its mark's line or cost line
    collateral_value: int  # `value_of`: what NAV counts (0 if stale, impaired or retired)
    recovery_value: int
    recovery_set: bool  # False: the salvage value stands in
    defaulted: bool
    counted: bool
    stale_at: int  # 0 unless counted
    ramp_end: int  # 0 unless a return is under way
    settled: bool  # its marks are final: no mark-up, and a mark holds no entries
    hold: Hold  # how it holds entries (the collateral's `held_down`)


def _date(timestamp: int) -> str:
    return f"{format_time(timestamp)} UTC"


def require_appraiser(pool: Pool, account: str) -> None:
    registry = pool.registry
    if not registry.hasRole(registry.APPRAISER_ROLE(), account):
        raise UserError(
            f"{account} is not an appraiser: it does not hold APPRAISER_ROLE on the GpuRegistry"
        )


def require_held(pool: Pool, token_id: int) -> Terms:
    """The GPU's registry terms, or UserError unless the pool's GpuCollateral holds it."""
    terms = terms_of(pool, token_id)
    if pool.collateral.position(token_id)[0] == NOT_HELD:
        raise UserError(
            f"GPU {token_id} is not held by the pool: only GPUs contributed or sold to it are "
            "appraised here"
        )
    return terms


def standing(pool: Pool, token_id: int) -> Standing:
    """Where GPU `token_id` stands now (it must be held by the pool)."""
    require_held(pool, token_id)
    collateral, appraisals = pool.collateral, pool.appraisals
    mark, marked_at, defaulted, _ = collateral.appraisal(token_id)
    state, _, ramp_end, stale = collateral.position(token_id)
    recovery, recovery_set = appraisals.recovery_value(token_id)
    now = chain.blocks.head.timestamp
    return Standing(
        token_id=token_id,
        book_value=pool.registry.book_value(token_id),
        mark=mark if marked_at else None,
        marked_at=marked_at,
        stands=collateral.book_of(token_id),
        collateral_value=collateral.value_of(token_id),
        recovery_value=recovery,
        recovery_set=recovery_set,
        defaulted=defaulted,
        counted=state == COUNTED,
        stale_at=stale if state == COUNTED else 0,
        ramp_end=ramp_end if state == COUNTED and ramp_end > now else 0,
        settled=appraisals.settled(token_id),
        hold=hold_of(pool, token_id),
    )


def holds_cell(hold: Hold) -> str:
    """Whether a GPU holds entries, and until when."""
    why = []
    if hold.below_line:
        why.append(f"marked below its straight-line book value, {UNTIL_SETTLED}")
    if hold.impaired:
        why.append(f"impaired, {UNTIL_RESTORED}")
    return "yes: " + "; ".join(why) if why else "no"


def standing_lines(pool: Pool, s: Standing) -> list[str]:
    """`show`'s lines, one a figure."""
    now = chain.blocks.head.timestamp
    mark = "none (the registry's cost line)"
    if s.mark is not None:
        mark = f"{pool.cash(s.mark)} on {_date(s.marked_at)}"
    recovery = pool.cash(s.recovery_value) + ("" if s.recovery_set else " (salvage: none set)")
    if not s.counted:
        counted = "no (impaired or retired)"
    elif s.stale_at <= now:
        counted = f"no: stale since {_date(s.stale_at)}"
    else:
        counted = f"yes, stale from {_date(s.stale_at)} unless attested"
    return [
        f"GPU {s.token_id}",
        f"  straight-line book value: {pool.cash(s.book_value)}",
        f"  mark: {mark}",
        f"  stands at: {pool.cash(s.stands)}",
        f"  collateral value: {pool.cash(s.collateral_value)}",
        f"  recovery value: {recovery}",
        f"  defaulted: {'yes' if s.defaulted else 'no'}",
        f"  counted: {counted}",
        f"  ramp end: {_date(s.ramp_end) if s.ramp_end else '-'}",
        f"  settled: {'yes (final: no mark-up in this pool)' if s.settled else 'no'}",
        f"  holds entries: {holds_cell(s.hold)}",
    ]


def _line_at(curve: Curve, t: int) -> int:
    """Where a GPU's curve stands at `t` in book value, stale or not (`book_of`, floored)."""
    return max(replace(curve, stale_at=2**256).scaled_at(t), 0) // PRECISION


def largest_mark(pool: Pool, token_id: int, terms: Terms, at: int) -> int:
    """The largest mark-up GpuAppraisals accepts in a block at `at` (the GPU counted, not stale,
    not returning): where it stands then plus a step of its book value then (what lies above
    that book value is taken as it)."""
    book = pool.registry.book_value_at(token_id, at)
    step = book * pool.appraisals.MAX_MARK_STEP_BPS() // BPS
    return _line_at(curve_of(pool, token_id, terms), at) + step


def mark(pool: Pool, sender: AccountAPI, appraisal: Appraisal) -> ReceiptAPI:
    """Set GPU `appraisal.token_id`'s book value (see the module notice for the rules)."""
    require_appraiser(pool, sender.address)
    token_id, value = appraisal.token_id, appraisal.value
    terms = require_held(pool, token_id)
    at = chain.pending_timestamp
    later = at + MARK_CHECK_MARGIN
    # The contract takes a value above the straight line as the line.
    rising = min(value, pool.registry.book_value_at(token_id, at)) > pool.collateral.book_of(
        token_id
    )
    if rising and pool.appraisals.settled(token_id):
        raise UserError(
            f"GPU {token_id}'s marks are settled: its write-down is final, it is never marked up "
            f"again in this pool (a mark at most where it stands applies at once)"
        )
    state, _, ramp_end, stale = pool.collateral.position(token_id)
    if state == COUNTED and rising:
        if stale <= at:
            raise UserError(
                f"GPU {token_id} went stale on {_date(stale)}: a mark up waits until the "
                f"custodian attests it (`ape run registry attest {token_id}`)"
            )
        if ramp_end > at:
            raise UserError(
                f"GPU {token_id} is returning until {_date(ramp_end)} (an earlier mark up or a "
                "restore): a mark up waits until then"
            )
        allowed = largest_mark(pool, token_id, terms, later)
        if value > allowed:
            raise UserError(
                f"VALUE {pool.cash(value)}: above the step: GPU {token_id} may be marked up to "
                f"at most {pool.cash(allowed)} in the next {MARK_CHECK_MARGIN // 60} minutes "
                f"(where it stands plus {pool.appraisals.MAX_MARK_STEP_BPS() / 100:g}% of its "
                "book value; above that book value the mark is the book value)"
            )
    return send(
        f"mark of GPU {token_id}",
        pool.appraisals.mark,
        token_id,
        value,
        appraisal.reason_hash,
        sender=sender,
    )


def set_recovery(pool: Pool, sender: AccountAPI, appraisal: Appraisal) -> ReceiptAPI:
    """Set GPU `appraisal.token_id`'s recovery value."""
    require_appraiser(pool, sender.address)
    require_held(pool, appraisal.token_id)
    return send(
        f"recovery value of GPU {appraisal.token_id}",
        pool.appraisals.set_recovery_value,
        appraisal.token_id,
        appraisal.value,
        appraisal.reason_hash,
        sender=sender,
    )


def settle(pool: Pool, sender: AccountAPI, settlement: Settlement) -> ReceiptAPI:
    """Settle GPU `settlement.token_id`'s marks: its write-down final where it stands now (a
    return under way is cut where it has reached), no mark-up from then on, and its marks hold
    no entries. Refused when nothing would change: already settled and not held below its line
    (a restore from IMPAIRED holds a settled GPU again, and a settle ends that too)."""
    require_appraiser(pool, sender.address)
    token_id = settlement.token_id
    require_held(pool, token_id)
    hold = hold_of(pool, token_id)
    if pool.appraisals.settled(token_id) and not hold.below_line:
        line = (
            f"GPU {token_id}'s marks are already settled: its write-down is final and no mark of "
            "it holds entries"
        )
        raise UserError(f"{line}; {WHILE_IMPAIRED}" if hold.impaired else line)
    if pool.collateral.position(token_id)[0] == COUNTED:
        require_current(pool)  # a counted GPU's curve changes: the schedule must be current
    return send(
        f"settling GPU {token_id}'s marks",
        pool.appraisals.settle,
        token_id,
        settlement.reason_hash,
        sender=sender,
    )


def settle_summary(pool: Pool, receipt: ReceiptAPI) -> str:
    """One line for a settlement's receipt (MarkSettled)."""
    (settled,) = pool.appraisals.MarkSettled.from_receipt(receipt)
    token_id = settled.token_id
    value = pool.collateral.value_of(token_id)
    line = (
        f"GPU {token_id}'s marks settled at {pool.cash(settled.book_value)} of book value (where "
        f"it stood): final, never marked up again in this pool; collateral value now "
        f"{pool.cash(value)}"
    )
    return f"{line}; {WHILE_IMPAIRED}" if hold_of(pool, token_id).impaired else line


def mark_summary(pool: Pool, receipt: ReceiptAPI) -> str:
    """One line for a mark's receipt (GpuMarked, and the collateral's GpuRevalued)."""
    (marked,) = pool.appraisals.GpuMarked.from_receipt(receipt)
    (revalued,) = pool.collateral.GpuRevalued.from_receipt(receipt)
    moved = (
        f"GPU {marked.token_id} marked to {pool.cash(marked.book_value)} "
        f"(it stood at {pool.cash(marked.previous)})"
    )
    # A mark below the line holds entries past any return (GpuAppraisals' rule).
    below = hold_of(pool, marked.token_id).below_line
    if marked.rising:
        line = f"{moved}: it returns by {_date(revalued.ramp_end)}; entries wait until then"
        return f"{line}, then {UNTIL_SETTLED}" if below else line
    value = pool.collateral.value_of(marked.token_id)
    line = f"{moved}: at once, collateral value now {pool.cash(value)}"
    return f"{line}; entries wait {UNTIL_SETTLED}" if below else line
