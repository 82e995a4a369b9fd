# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title schedule
@custom:contract-name schedule
@license GNU Affero General Public License v3.0 only
@notice The collateral value of every GPU a pool counts, summed in O(1) whatever the number of
        GPUs, with every change of value the clock makes (end of life, a stale attestation, the
        end of a return ramp) at a known time on a grid of whole days (UTC midnights).
        Each counted GPU has a `Curve`: its book value (scaled by PRECISION) as a function of time,
        piecewise linear with segments `a - b * t`:
        - ramp, while `t < ramp_end`: moves straight from `ramp_from` at `since` to the normal value
          at `ramp_end` (a GPU that comes back, re-attested, restored or marked up, returns
          gradually from where it stands: "up gradually");
        - line, while `t < end`: falls straight from cost at `start` to salvage at `end`, the end of
          its useful life rounded down to the grid (a few hours early: conservative); after an
          appraiser's mark, `cost` is the mark, `start` its time and `salvage` at most the mark;
        - salvage, from `end` on;
        - nothing from `stale_at` on: the last attestation plus the pool's staleness window,
          rounded down to the grid.
        The module keeps the sums `a` and `b` of the segments in force, the number of GPUs
        written down for a while (stale, or on a ramp: their value is expected back), and for
        each grid time where some GPU changes segment, a node with the change of those (signed). A bitmap of
        days (and a bitmap of its non-empty words) finds the next node in O(1) without hints.
        Nodes whose time has passed are "matured" by `_mature`, a bounded number a call; views add
        the unmatured ones on the fly, all of them, so a view never understates.
@custom:security
        - Rounding (why the sum never exceeds the per-GPU values): the line's slope is rounded up,
          the ramp's down (towards minus infinity when it falls), salvage is exact; so each curve is at most the GPU's straight-line
          book value scaled by PRECISION, and `_curve_value` floors it after the advance rate.
          `_value` floors the sum, clamps it at zero (a line may dip below zero by less than
          `life / PRECISION` wei when salvage is zero) and subtracts one wei per counted GPU, so
          it is at most the sum of the per-GPU values and below it by at most that many wei.
        - A GPU is added only when no node at or before now is pending (`_is_current`), with
          `since = now`; removal and moving a future change work at any time, because the segment
          of a GPU in the sums is the one in force at the cursor (the last matured node time).
        - Every change point lies at most MAX_LIFE ahead (the importing contract clamps end of life
          and bounds the windows), so the scan for the next node is bounded.
"""


# The value scale of curves (wei * 1e18).
PRECISION: constant(uint256) = 10**18
# Every change point is a multiple of this (UTC midnight): at most one node a day.
GRID: constant(uint256) = 86_400
# Nodes a state-changing flow matures before it uses the value, at most.
MAX_MATURE_STEPS: constant(uint256) = 16
# Nodes a view or `process_maturities` walks, at most (beyond: the view reverts, never understates).
MAX_VIEW_STEPS: constant(uint256) = 1_024
# The furthest ahead a change point may lie (end of life is clamped to it).
MAX_LIFE: constant(uint256) = 50 * 365 * GRID
# Basis points denominator.
_BPS: constant(uint256) = 10_000
# Summary words scanned for the next node (each covers 65,536 days).
_SUMMARY_SCAN: constant(uint256) = 2
# `_meta`: the next node time (bits 0..39) | counted GPUs (40..103) | GPUs written down (104..).
_MASK_40: constant(uint256) = 2**40 - 1
_MASK_64: constant(uint256) = 2**64 - 1
_COUNTED: constant(uint256) = 2**40
# A node's written-down count rides below its slope, times this (see _StoredNode).
_GPUS_BASE: constant(int256) = 2**32
_GPUS_BASE_U: constant(uint256) = 2**32
_DOWN_SHIFT: constant(uint256) = 104


# One counted GPU's value over time (see the module notice); every time is in seconds.
struct Curve:
    cost: uint256
    salvage: uint256
    start: uint256
    end: uint256
    since: uint256
    ramp_end: uint256
    ramp_from: uint256
    stale_at: uint256


# The change of the sums, and of the number of GPUs written down, at one grid time.
struct Node:
    intercept: int256
    slope: int256
    gpus: int256


# A node as stored: two words. The count rides in the slope's word as slope * 2**32 + gpus, a sum
# that adds as the two do (|gpus| < 2**31: no day moves two billion GPUs; |slope| < 2**223).
struct _StoredNode:
    intercept: int256
    slope_gpus: int256


# Sum of the intercepts `a` of the segments in force at the cursor.
intercept_sum: public(int256)
# Sum of the slopes `b` of the segments in force at the cursor.
slope_sum: public(int256)
# The earliest node not yet matured (0: none) | the number of counted GPUs << 40 | the number of
# them written down (stale, or returning on a ramp) at the cursor << 104.
_meta: uint256
# grid time -> the change of the sums and of the written-down count then (see `nodes`).
_nodes: HashMap[uint256, _StoredNode]
# day // 256 -> one bit per day that has a node (a matured day's bit stays: the scan starts after
# the head; an emptied node's bit is cleared).
_days: HashMap[uint256, uint256]
# (day // 256) // 256 -> one bit per non-empty word of `_days` after the head.
_words: HashMap[uint256, uint256]


event ScheduleMatured:
    at: indexed(uint256)
    intercept: int256
    slope: int256
    gpus: int256


@deploy
def __init__():
    pass


@view
@external
def schedule_state() -> (uint256, uint256, uint256):
    """
    @notice The next node time not yet matured (0: none), the number of counted GPUs, and how
            many of them were written down (stale or returning) when the last node matured.
    """
    meta: uint256 = self._meta
    return meta & _MASK_40, (meta >> 40) & _MASK_64, meta >> _DOWN_SHIFT


@view
@external
def nodes(at: uint256) -> (int256, int256, int256):
    """
    @notice The change at grid time `at` not yet matured: of the intercept and slope sums, and of
            the number of GPUs written down.
    """
    node: Node = self._load(at)
    return node.intercept, node.slope, node.gpus


# CHANGES #


@internal
def _apply(curve: Curve, add: bool):
    """
    @dev Add `curve` to the sums and its future changes to the nodes, or take them out. Adding a
         curve that starts now needs `_is_current()`; taking one out works at any time, and so
         does putting back one taken out in the same call with only a later stale day (its
         segment at the cursor is unchanged).
    """
    cursor: uint256 = self._cursor()
    a: int256 = 0
    b: int256 = 0
    a, b = self._segment(curve, cursor)
    down: int256 = self._down(curve, cursor)
    last: uint256 = cursor
    prev: Node = Node(intercept=a, slope=b, gpus=down)
    points: uint256[3] = self._sorted(curve.ramp_end, curve.end, curve.stale_at)
    for point: uint256 in points:
        if point <= last or point > curve.stale_at:
            continue
        following: Node = empty(Node)
        following.intercept, following.slope = self._segment(curve, point)
        following.gpus = self._down(curve, point)
        moved: bool = following.intercept != prev.intercept or following.slope != prev.slope
        if moved or following.gpus != prev.gpus:
            change: Node = Node(
                intercept=following.intercept - prev.intercept,
                slope=following.slope - prev.slope,
                gpus=following.gpus - prev.gpus,
            )
            if add:
                self._add_to_node(point, change)
            else:
                self._take_from_node(point, change)
        last = point
        prev = following
    meta_change: uint256 = _COUNTED + (convert(down, uint256) << _DOWN_SHIFT)
    if add:
        self.intercept_sum += a
        self.slope_sum += b
        self._meta += meta_change
    else:
        self.intercept_sum -= a
        self.slope_sum -= b
        self._meta -= meta_change


@internal
def _add_to_node(point: uint256, change: Node):
    """
    @dev Add a change at grid time `point` (after the cursor), touching only the fields it moves.
    """
    if change.intercept != 0:
        self._nodes[point].intercept += change.intercept
    if change.slope != 0 or change.gpus != 0:
        self._nodes[point].slope_gpus += change.slope * _GPUS_BASE + change.gpus
    self._mark(point)


@internal
def _take_from_node(point: uint256, change: Node):
    """
    @dev Take a change out of the node at `point`; a node left with no change is dropped, so it
         neither counts as due nor costs a step (a moved stale day, a GPU taken out).
    """
    stored: _StoredNode = self._nodes[point]
    stored.intercept -= change.intercept
    stored.slope_gpus -= change.slope * _GPUS_BASE + change.gpus
    if stored.intercept == 0 and stored.slope_gpus == 0:
        self._nodes[point] = empty(_StoredNode)
        self._unmark(point)
    else:
        self._nodes[point] = stored


@internal
def _mature(max_steps: uint256) -> uint256:
    """
    @dev Apply up to `max_steps` nodes whose time has passed, in order.
    @return uint256 How many were applied.
    """
    meta: uint256 = self._meta
    head: uint256 = meta & _MASK_40
    if head == 0 or head > block.timestamp:
        return 0
    a: int256 = self.intercept_sum
    b: int256 = self.slope_sum
    down: int256 = convert(meta >> _DOWN_SHIFT, int256)
    steps: uint256 = 0
    for i: uint256 in range(max_steps, bound=MAX_VIEW_STEPS):
        if head == 0 or head > block.timestamp:
            break
        node: Node = self._load(head)
        a += node.intercept
        b += node.slope
        down += node.gpus
        self._nodes[head] = empty(_StoredNode)
        log ScheduleMatured(at=head, intercept=node.intercept, slope=node.slope, gpus=node.gpus)
        head = self._next_after(head)
        steps += 1
    self.intercept_sum = a
    self.slope_sum = b
    # `down` counts counted GPUs: never negative, below 2**64.
    self._meta = (meta & (_MASK_64 << 40)) | head | (convert(down, uint256) << _DOWN_SHIFT)
    return steps


# VIEWS #


@view
@internal
def _value(rate_bps: uint256) -> uint256:
    """
    @dev The collateral value now (wei) of every counted GPU: book value * rate_bps / 10_000,
         unmatured nodes included, conservative by the rounding argument of the module notice.
         Reverts if more than MAX_VIEW_STEPS nodes are pending rather than understate.
    """
    meta: uint256 = self._meta
    counted: uint256 = (meta >> 40) & _MASK_64
    if counted == 0:
        return 0
    a: int256 = self.intercept_sum
    b: int256 = self.slope_sum
    head: uint256 = meta & _MASK_40
    for i: uint256 in range(MAX_VIEW_STEPS):
        if head == 0 or head > block.timestamp:
            break
        node: Node = self._load(head)
        a += node.intercept
        b += node.slope
        head = self._next_after(head)
    assert head == 0 or head > block.timestamp, "collateral: maturities pending; call process_maturities"
    scaled: uint256 = self._scale(a - b * convert(block.timestamp, int256), rate_bps)
    if scaled <= counted:
        return 0
    # scaled > counted, checked above.
    return unsafe_sub(scaled, counted)


@view
@internal
def _curve_value(curve: Curve, rate_bps: uint256) -> uint256:
    """
    @dev One GPU's collateral value now (wei), from its curve alone.
    """
    a: int256 = 0
    b: int256 = 0
    a, b = self._segment(curve, block.timestamp)
    return self._scale(a - b * convert(block.timestamp, int256), rate_bps)


@view
@internal
def _pending(limit: uint256) -> uint256:
    """
    @dev How many nodes are due and not matured, counting up to `limit`.
    """
    head: uint256 = self._meta & _MASK_40
    count: uint256 = 0
    for i: uint256 in range(limit, bound=MAX_VIEW_STEPS):
        if head == 0 or head > block.timestamp:
            break
        count += 1
        head = self._next_after(head)
    return count


@view
@internal
def _written_down() -> uint256:
    """
    @dev How many counted GPUs are written down now (stale, or returning on a ramp), due nodes
         included (the same bound as `_value`).
    """
    meta: uint256 = self._meta
    down: int256 = convert(meta >> _DOWN_SHIFT, int256)
    head: uint256 = meta & _MASK_40
    for i: uint256 in range(MAX_VIEW_STEPS):
        if head == 0 or head > block.timestamp:
            break
        down += self._load(head).gpus
        head = self._next_after(head)
    assert head == 0 or head > block.timestamp, "collateral: maturities pending; call process_maturities"
    return convert(down, uint256)


@view
@internal
def _is_current() -> bool:
    """
    @dev Whether every node due by now has been matured (the sums are the value now).
    """
    head: uint256 = self._meta & _MASK_40
    return head == 0 or head > block.timestamp


# CURVES #


@pure
@internal
def _segment(curve: Curve, t: uint256) -> (int256, int256):
    """
    @dev The segment `a - b * t` of `curve` in force at `t` (t >= curve.since).
    """
    if t >= curve.stale_at:
        return 0, 0
    if t < curve.ramp_end:
        base: int256 = convert(curve.ramp_from * PRECISION, int256)
        # ramp_end > t >= since: the ramp is a real interval; the rise is floored (conservative).
        span: int256 = convert(unsafe_sub(curve.ramp_end, curve.since), int256)
        gap: int256 = convert(self._normal_at(curve, curve.ramp_end), int256) - base
        rise: int256 = gap // span
        if gap < 0 and rise * span != gap:
            rise -= 1
        return base - rise * convert(curve.since, int256), -rise
    if t < curve.end:
        fall: uint256 = self._fall(curve)
        return convert(curve.cost * PRECISION + fall * curve.start, int256), convert(fall, int256)
    return convert(curve.salvage * PRECISION, int256), 0


@pure
@internal
def _down(curve: Curve, t: uint256) -> int256:
    """
    @dev 1 if `curve` is written down for a while at `t` (stale, or returning on its ramp), else 0.
    """
    if t >= curve.stale_at or t < curve.ramp_end:
        return 1
    return 0


@pure
@internal
def _normal_at(curve: Curve, t: uint256) -> uint256:
    """
    @dev The line-then-salvage value of `curve` at `t` (scaled), at least zero.
    """
    if t >= curve.end:
        return curve.salvage * PRECISION
    top: uint256 = curve.cost * PRECISION
    # t >= since >= start for every t a curve is evaluated at.
    fallen: uint256 = self._fall(curve) * unsafe_sub(t, curve.start)
    if fallen >= top:
        return 0
    # top > fallen, checked above.
    return unsafe_sub(top, fallen)


@pure
@internal
def _fall(curve: Curve) -> uint256:
    """
    @dev The line's slope, rounded up: (cost - salvage) * PRECISION / (end - start).
         Only called while t < end, so end > start.
    """
    span: uint256 = curve.end - curve.start
    return ((curve.cost - curve.salvage) * PRECISION + span - 1) // span


@pure
@internal
def _scale(scaled_value: int256, rate_bps: uint256) -> uint256:
    """
    @dev A PRECISION-scaled book value, clamped at zero, times the advance rate, in wei (floor).
    """
    if scaled_value <= 0:
        return 0
    return convert(scaled_value, uint256) * rate_bps // (_BPS * PRECISION)


@pure
@internal
def _sorted(x: uint256, y: uint256, z: uint256) -> uint256[3]:
    """
    @dev Three times in ascending order.
    """
    lo: uint256 = min(x, y)
    hi: uint256 = max(x, y)
    if z < lo:
        return [z, lo, hi]
    if z < hi:
        return [lo, z, hi]
    return [lo, hi, z]


# NODE INDEX #


@view
@internal
def _load(at: uint256) -> Node:
    """
    @dev The node at `at`, its count taken back out of the slope's word.
    """
    stored: _StoredNode = self._nodes[at]
    # The low 32 bits of the two's-complement word are gpus mod 2**32; gpus is in [-2**31, 2**31).
    low: int256 = convert(convert(convert(stored.slope_gpus, bytes32), uint256) & (_GPUS_BASE_U - 1), int256)
    if low >= _GPUS_BASE // 2:
        low -= _GPUS_BASE
    # slope_gpus - low is an exact multiple of 2**32.
    return Node(intercept=stored.intercept, slope=(stored.slope_gpus - low) // _GPUS_BASE, gpus=low)


@view
@internal
def _cursor() -> uint256:
    """
    @dev A time at which the sums are the segments in force: now if every due node has matured,
         else just before the first node that has not.
    """
    head: uint256 = self._meta & _MASK_40
    if head == 0 or head > block.timestamp:
        return block.timestamp
    # head > 0, checked above.
    return unsafe_sub(head, 1)


@internal
def _mark(point: uint256):
    """
    @dev Record that grid time `point` (after the cursor) has a node.
    """
    day: uint256 = point // GRID
    word: uint256 = day >> 8
    bits: uint256 = self._days[word]
    bit: uint256 = 1 << (day & 255)
    if bits & bit == 0:
        if bits == 0:
            self._words[word >> 8] |= 1 << (word & 255)
        self._days[word] = bits | bit
    meta: uint256 = self._meta
    head: uint256 = meta & _MASK_40
    if head == 0 or point < head:
        self._meta = (meta & ~_MASK_40) | point


@internal
def _unmark(point: uint256):
    """
    @dev Forget the node at grid time `point` (after the cursor, now empty); the head moves on if
         it was there.
    """
    day: uint256 = point // GRID
    word: uint256 = day >> 8
    bits: uint256 = self._days[word] & ~(1 << (day & 255))
    self._days[word] = bits
    if bits == 0:
        self._words[word >> 8] &= ~(1 << (word & 255))
    meta: uint256 = self._meta
    if meta & _MASK_40 == point:
        self._meta = (meta & ~_MASK_40) | self._next_after(point)


@view
@internal
def _next_after(point: uint256) -> uint256:
    """
    @dev The first grid time after `point` with a node (0: none within the scan).
    """
    day: uint256 = point // GRID
    word: uint256 = day >> 8
    # Shifting by 256 gives zero: no bit above day 255 of a word.
    later: uint256 = self._days[word] & (max_value(uint256) << ((day & 255) + 1))
    if later != 0:
        return ((word << 8) | self._lowest_bit(later)) * GRID
    summary: uint256 = word >> 8
    words: uint256 = self._words[summary] & (max_value(uint256) << ((word & 255) + 1))
    for i: uint256 in range(_SUMMARY_SCAN):
        if words != 0:
            found: uint256 = (summary << 8) | self._lowest_bit(words)
            return ((found << 8) | self._lowest_bit(self._days[found])) * GRID
        summary += 1
        words = self._words[summary]
    return 0


@pure
@internal
def _lowest_bit(bits: uint256) -> uint256:
    """
    @dev The index of the lowest set bit of a non-zero word.
    """
    # bits & -bits isolates the lowest set bit (two's complement; ~bits + 1 cannot overflow as
    # bits is non-zero).
    single: uint256 = bits & unsafe_add(~bits, 1)
    index: uint256 = 0
    if single >= 1 << 128:
        single >>= 128
        index += 128
    if single >= 1 << 64:
        single >>= 64
        index += 64
    if single >= 1 << 32:
        single >>= 32
        index += 32
    if single >= 1 << 16:
        single >>= 16
        index += 16
    if single >= 1 << 8:
        single >>= 8
        index += 8
    if single >= 1 << 4:
        single >>= 4
        index += 4
    if single >= 1 << 2:
        single >>= 2
        index += 2
    if single >= 1 << 1:
        index += 1
    return index
