"""GpuAppraisals mirrors for tests: revert reasons, constants, and the value of a GPU's line after
a mark, restated from the rules (IAS 16 / IAS 36: the new carrying amount depreciates over the
remaining life) independently of tests/utils/collateral.py's Book, so a test can state a figure
two ways."""

from __future__ import annotations

from eth_utils import keccak

from tests.utils.collateral import BPS, PRECISION, floor_day

# Revert reasons.
NOT_APPRAISER = "appraisals: caller is not an appraiser"
ABOVE_STEP = "appraisals: mark-up above the step"
STALE_UP = "appraisals: gpu stale; the custodian attests first"
RETURNING = "appraisals: gpu returning; mark up after its ramp"
SETTLED_UP = "appraisals: mark settled; no mark-up"
TOO_LARGE = "appraisals: value too large"
NOT_A_CONTRACT = "appraisals: collateral is not a contract"

# keccak256("LEASE_MANAGER_ROLE") on the appraisals: the pool's LeaseManager (default marks).
LEASE_MANAGER_ROLE = keccak(text="LEASE_MANAGER_ROLE")
# The reason every default mark carries.
DEFAULT_REASON = keccak(text="lease default")
# Largest recovery value.
MAX_VALUE = 2**96


def end_of_life(terms) -> int:
    """The collateral's end of life: acquisition plus useful life, down to the day."""
    return floor_day(terms.acquired_at + terms.useful_life)


def next_step(terms, stands: int, at: int) -> int:
    """The largest mark up at `at` of a GPU standing at `stands` (its `book_of`): a step
    (MAX_MARK_STEP_BPS of the registry's book value then) above it, never above that book value,
    its straight line. `terms`: tests/utils/collateral's Terms."""
    return min(terms.book_value(at), stands + terms.step(at))


def marked_line(value: int, at: int, salvage: int, end: int, t: int) -> int:
    """A GPU's book value at `t` (scaled by 1e18) after a mark to `value` at `at`: a straight line
    from `value` down to min(salvage, value) at `end` (the fall a second rounded up), flat
    from `end` on."""
    floor = min(salvage, value)
    if t >= end:
        return floor * PRECISION
    fall = -(-(value - floor) * PRECISION // (end - at))
    return value * PRECISION - fall * (t - at)


def ramp(start: int, since: int, ramp_end: int, target_scaled: int, t: int) -> int:
    """A return ramp at `t` (scaled): from book value `start` at `since` to `target_scaled` at
    `ramp_end`, the rise a second rounded towards minus infinity."""
    rise = (target_scaled - start * PRECISION) // (ramp_end - since)
    return start * PRECISION + rise * (t - since)


def worth(scaled: int, rate_bps: int) -> int:
    """`value_of`: a scaled book value at the advance rate, in wei (floor)."""
    return max(0, scaled) * rate_bps // (BPS * PRECISION)
