# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title depreciation
@custom:contract-name depreciation
@license GNU Affero General Public License v3.0 only
@notice The book value of every GPU a vault counts, summed in O(1) whatever the number of GPUs.
        A GPU's book value falls straight-line from cost C at `start` to salvage S at
        `end = start + life`, then stays at S. For t in [start, end] that is the line
        `C*P + k*start - k*t` scaled by P = 1e18, with slope k = ceil((C - S) * P / life). The
        module keeps the sums of intercepts (`C*P + k*start`) and slopes over the GPUs still on their
        line, the sum of salvage values of the GPUs past their end, and one node per distinct end
        time, in a list sorted by end time (inserted with a caller-supplied hint checked in O(1)).
        A node past its end is "matured" lazily: the next state-changing call moves its sums from
        the line to the salvage bucket, and views subtract the unmatured ones on the fly.
@custom:security Rounding argument (why the aggregate never exceeds the per-GPU values):
        1. k >= (C - S) * P / life, so for start <= t <= end the line is <= the exact book value * P
           (the depreciation so far is overstated, never understated);
        2. after `end` a GPU counts exactly S * P; a matured node not yet processed is taken out of
           the line and its salvage added in every view, so a lazy node never counts above S;
        3. the line of a GPU near its end may dip below S * P (by < life/P wei) and below zero if
           S = 0: the sum is clamped at zero, which only lowers it;
        4. the registry's own book value rounds down (by < 1 wei) and the vault's per-GPU collateral
           value floor(book * rate / 10_000) loses < 1 wei more: `_value` subtracts 2 wei per counted
           GPU after scaling, so the total is at most the sum of per-GPU collateral values, and
           below it by at most 3 wei per GPU plus 1 (plus life/P, far below 1 wei, per GPU).
        A GPU enters only with start <= now (never valued above its cost).
"""


# The value scale of intercepts and slopes (wei * 1e18).
PRECISION: constant(uint256) = 10**18
# Nodes a state-changing call matures, at most (the rest are handled by views and `_mature`).
MAX_MATURE_STEPS: constant(uint256) = 16
# Unmatured nodes a view walks, at most. Beyond it the line keeps falling below salvage, which
# undervalues (never overvalues) until someone calls `process_maturities`.
MAX_VIEW_STEPS: constant(uint256) = 64
# Nodes `_hint_for` walks, at most (a view for scripts).
MAX_HINT_STEPS: constant(uint256) = 10_000
# Basis points denominator.
_BPS: constant(uint256) = 10_000
# Low 64 bits of `_meta`: the count of counted GPUs.
_MASK_64: constant(uint256) = 2**64 - 1


# One distinct end time: the GPUs still on their line that end then.
struct EndNode:
    # the next later end time in the list (0: none)
    next: uint256
    # whether the node is in the list (not yet matured)
    linked: bool
    # sum of the intercepts of its GPUs
    intercept: uint256
    # sum of the slopes of its GPUs
    slope: uint256
    # sum of the salvage values of its GPUs (wei)
    salvage: uint256


# Sum of intercepts of every GPU on its line, matured or not.
intercept_sum: public(uint256)
# Sum of slopes of every GPU on its line, matured or not.
slope_sum: public(uint256)
# Sum of salvage values (wei) of the GPUs whose node has matured.
salvage_sum: public(uint256)
# The earliest end time still in the list (0: empty).
head: public(uint256)
# How many GPUs are counted (each costs the 2-wei margin of the rounding argument).
counted: public(uint256)
# end time -> node.
nodes: public(HashMap[uint256, EndNode])


event DepreciationMatured:
    end_time: indexed(uint256)
    salvage: uint256


@deploy
def __init__():
    pass


@internal
def _add(cost: uint256, salvage: uint256, start: uint256, life: uint256, hint: uint256) -> (uint256, bool):
    """
    @dev Count one GPU. Returns its slope and whether it went on the line (False: already past its
         end, straight into the salvage bucket).
    @param hint The end time after which this GPU's end time goes in the list (0: at the front);
           ignored when a node for the end time exists or the GPU is past its end.
    """
    assert start <= block.timestamp, "vault: gpu acquired in the future"
    assert salvage <= cost, "vault: salvage exceeds cost"
    assert life != 0, "vault: zero useful life"
    self.counted += 1
    end: uint256 = start + life
    if end <= block.timestamp:
        self.salvage_sum += salvage
        return 0, False
    slope: uint256 = (((cost - salvage) * PRECISION) + life - 1) // life
    intercept: uint256 = cost * PRECISION + slope * start
    node: EndNode = self.nodes[end]
    if not node.linked:
        self._link(end, hint)
    self.nodes[end].intercept = node.intercept + intercept
    self.nodes[end].slope = node.slope + slope
    self.nodes[end].salvage = node.salvage + salvage
    self.intercept_sum += intercept
    self.slope_sum += slope
    return slope, True


@internal
def _remove(cost: uint256, salvage: uint256, start: uint256, life: uint256, slope: uint256, on_line: bool):
    """
    @dev Stop counting one GPU added by `_add` (`slope` and `on_line` are what `_add` returned).
    """
    self.counted -= 1
    end: uint256 = start + life
    if on_line and self.nodes[end].linked:
        intercept: uint256 = cost * PRECISION + slope * start
        self.nodes[end].intercept -= intercept
        self.nodes[end].slope -= slope
        self.nodes[end].salvage -= salvage
        self.intercept_sum -= intercept
        self.slope_sum -= slope
    else:
        self.salvage_sum -= salvage


@internal
def _mature(max_steps: uint256) -> uint256:
    """
    @dev Move up to `max_steps` nodes whose end time has passed from the line to the salvage bucket.
    @return uint256 How many nodes matured.
    """
    cursor: uint256 = self.head
    if cursor == 0 or cursor > block.timestamp:
        return 0
    steps: uint256 = 0
    intercepts: uint256 = 0
    slopes: uint256 = 0
    salvages: uint256 = 0
    for i: uint256 in range(max_steps, bound=MAX_HINT_STEPS):
        if cursor == 0 or cursor > block.timestamp:
            break
        node: EndNode = self.nodes[cursor]
        intercepts += node.intercept
        slopes += node.slope
        salvages += node.salvage
        self.nodes[cursor] = empty(EndNode)
        log DepreciationMatured(end_time=cursor, salvage=node.salvage)
        cursor = node.next
        steps += 1
    self.head = cursor
    self.intercept_sum -= intercepts
    self.slope_sum -= slopes
    self.salvage_sum += salvages
    return steps


@view
@internal
def _value(rate_bps: uint256) -> uint256:
    """
    @dev The collateral value now (wei) of every counted GPU: book value * rate_bps / 10_000,
         conservative by the rounding argument of the module docstring.
    """
    n: uint256 = self.counted
    if n == 0:
        return 0
    intercepts: uint256 = self.intercept_sum
    slopes: uint256 = self.slope_sum
    salvages: uint256 = self.salvage_sum
    cursor: uint256 = self.head
    for i: uint256 in range(MAX_VIEW_STEPS):
        if cursor == 0 or cursor > block.timestamp:
            break
        node: EndNode = self.nodes[cursor]
        intercepts -= node.intercept
        slopes -= node.slope
        salvages += node.salvage
        cursor = node.next
    line: uint256 = 0
    falls: uint256 = slopes * block.timestamp
    if intercepts > falls:
        # intercepts > falls, checked above.
        line = unsafe_sub(intercepts, falls)
    scaled: uint256 = (line + salvages * PRECISION) * rate_bps // (_BPS * PRECISION)
    margin: uint256 = 2 * n
    if scaled <= margin:
        return 0
    # scaled > margin, checked above.
    return unsafe_sub(scaled, margin)


@view
@internal
def _pending() -> uint256:
    """
    @dev How many nodes have passed their end time and not matured (up to MAX_VIEW_STEPS + 1).
    """
    cursor: uint256 = self.head
    count: uint256 = 0
    for i: uint256 in range(MAX_VIEW_STEPS + 1):
        if cursor == 0 or cursor > block.timestamp:
            break
        count += 1
        cursor = self.nodes[cursor].next
    return count


@view
@internal
def _hint_for(end: uint256) -> uint256:
    """
    @dev The hint `_add` needs for end time `end`: the latest end time in the list before it.
    """
    previous: uint256 = 0
    cursor: uint256 = self.head
    for i: uint256 in range(MAX_HINT_STEPS):
        if cursor == 0 or cursor >= end:
            break
        # A node already past its end is matured by the call that uses the hint: never a hint.
        if cursor > block.timestamp:
            previous = cursor
        cursor = self.nodes[cursor].next
    return previous


@internal
def _link(end: uint256, hint: uint256):
    """
    @dev Insert node `end` after `hint` (0: at the front), checking in O(1) that the order holds.
    """
    following: uint256 = 0
    if hint == 0:
        following = self.head
    else:
        assert hint < end and self.nodes[hint].linked, "vault: bad end-time hint"
        following = self.nodes[hint].next
    assert following == 0 or following > end, "vault: bad end-time hint"
    if hint == 0:
        self.head = end
    else:
        self.nodes[hint].next = end
    self.nodes[end].next = following
    self.nodes[end].linked = True
