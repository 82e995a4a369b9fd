# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title revenue
@custom:contract-name revenue
@license GNU Affero General Public License v3.0 only
@notice Lease revenue to fraction holders pro rata, in O(1) gas whatever the number of holders.
        Net payments are streamed on one line: each payment adds to the rest and the line is
        redrawn from now with a rate that never falls (revenue already vesting is never pushed
        later; see `_distribute`), the new money vesting within `vesting_period`. As
        the stream vests, the vested amount is added to a per-share accumulator `acc` (wei scaled by
        ACC_SCALE per share unit), the division remainder carried forward in `rem`. An account is
        checkpointed before every change of its balance: `owed += balance * (acc - checkpoint)`,
        kept in units of 2**-28 wei, and pulls its whole wei with a claim (the sub-wei rest stays
        owed). Buying just before a payment earns only what vests while one holds.
        The vault passes balances and the supply in (the module keeps no token state).
@custom:security Conservation, to the wei, at any time:
        received = claimed + claimable + unvested + dust (fees are taken before `received`), with
        dust = rem (below supply / ACC_SCALE wei: under 1 wei up to 1e36 fraction units, under
        170 wei at the supply cap; carried forward, it vests later) + the sub-wei rests of the
        accounts (< 1 wei each) + the floor of unvested (< 1 wei) + the part of a wei below 2**-28
        dropped at each checkpoint (2**-28 wei per balance change, the holder's own). Dust is
        carried forward, never claimable twice.
        Revenue vested while no fraction exists (or that would push `acc` past 2**128) is parked
        in `undistributed` and streamed again with the next payment (or `skim`), so no later
        buyer takes it; the views count it as unvested from the block it vests. The importing
        vault's dead shares are an account of its own (`self`): what they earn is taken back into
        the stream at every payment, so it reaches the holders too. With dead shares the supply
        never falls below them, which bounds how fast `acc` can grow (see the vault).
        Transfers checkpoint against the accumulator computed in memory (no global write):
        `acc_now` is a deterministic, non-decreasing function of time between writes, and only
        mint, burn and payments (which change the supply or the rate) write it back.
        Storage is packed for gas: one slot per account (checkpoint | owed) and two global slots
        (acc | pause flag | rem, rate | last update | end). `acc` starts at 1 so an account slot is
        non-zero from its first checkpoint and later updates cost a warm rewrite, not a fresh slot.
        The importing vault's pause flag lives in the free bit 127 of `_acc_rem` (rem < supply <
        2**127 never reaches it): every pausable flow that moves a balance or pays revenue reads
        this slot anyway, so the pause check costs a warm read instead of a cold slot of its own.
        Every write of `_acc_rem` keeps the flag; only `_set_paused` changes it.
"""


# Scale of the accumulator: a payment of 1 wei to 1e36 share units still moves it.
ACC_SCALE: constant(uint256) = 10**36
# Owed revenue is kept in units of 2**-28 wei.
_FRACTION_BITS: constant(uint256) = 28
_FRACTION: constant(uint256) = 2**28
# ACC_SCALE // _FRACTION, exact (10**36 = 2**36 * 5**36): x * _FRACTION // ACC_SCALE is
# x // _ACC_PER_FRACTION, one multiplication fewer.
_ACC_PER_FRACTION: constant(uint256) = ACC_SCALE // _FRACTION
# Shortest and longest vesting windows a vault may choose.
MIN_VESTING_PERIOD: constant(uint256) = 86_400
MAX_VESTING_PERIOD: constant(uint256) = 365 * 86_400
_MASK_32: constant(uint256) = 2**32 - 1
_MASK_128: constant(uint256) = 2**128 - 1
# The carried remainder: bits 0..126 of `_acc_rem` (rem < supply < 2**127).
_MASK_REM: constant(uint256) = 2**127 - 1
# Bit 127 of `_acc_rem`: the importing vault's pause flag.
_PAUSED: constant(uint256) = 2**127
# The rate takes the top 192 bits of `_stream`.
_RATE_CAP: constant(uint256) = 2**192


# The window over which each payment (with the unvested rest) vests, in seconds.
vesting_period: public(immutable(uint256))


# acc (bits 128..255: revenue per share unit, ACC_SCALE-scaled) | the vault's pause flag (bit 127)
# | rem (0..126: carried remainder, below the supply cap of 2**127).
_acc_rem: uint256
# rate (bits 64..255: ACC_SCALE-scaled wei per second) | last update (32..63) | window end (0..31).
_stream: uint256
# ACC_SCALE-scaled wei parked (vested with no fraction outstanding, or division leftovers).
undistributed: public(uint256)
# account -> checkpoint (bits 128..255: `acc` then) | owed (0..127: units of 2**-28 wei).
_accounts: HashMap[address, uint256]
# Net revenue ever received for holders (wei, after fees).
received: public(uint256)
# Net revenue held for holders: received less claimed (wei).
held: public(uint256)


@deploy
def __init__(vesting_period_: uint256):
    assert vesting_period_ >= MIN_VESTING_PERIOD, "revenue: vesting period too short"
    assert vesting_period_ <= MAX_VESTING_PERIOD, "revenue: vesting period too long"
    vesting_period = vesting_period_
    self._acc_rem = 1 << 128
    self._stream = (block.timestamp << 32) | block.timestamp


@view
@external
def revenue_state() -> (uint256, uint256, uint256, uint256, uint256):
    """
    @notice The accumulator and the stream: (acc, rem, rate, last update, window end).
    """
    acc_rem: uint256 = self._acc_rem
    stream: uint256 = self._stream
    return acc_rem >> 128, acc_rem & _MASK_REM, stream >> 64, (stream >> 32) & _MASK_32, stream & _MASK_32


@view
@external
def account_state(account: address) -> (uint256, uint256):
    """
    @notice An account's checkpoint (`acc` then) and what it is owed in units of 2**-28 wei.
    """
    packed: uint256 = self._accounts[account]
    return packed >> 128, packed & _MASK_128


@internal
def _distribute(amount: uint256, supply: uint256, dead_balance: uint256) -> (uint256, uint256, uint256):
    """
    @dev Add `amount` (net of fees, already in the vault) to the stream, with what the importing
         contract's own dead shares earned (`dead_balance`: its balance) and what was parked. The
         stream stays one line: its rate never falls, so revenue already vesting is never pushed
         later, and the new money vests within `vesting_period`. If the rest at the running rate
         would take longer than that, the rate rises to fit it; otherwise the running rate is kept
         and the line ends when everything has vested (sooner than `vesting_period`).
    @return (uint256, uint256, uint256) The new rate, the end of the line, and the wei recycled
            from the dead shares.
    """
    self._sync(supply)
    recycled: uint256 = 0
    if dead_balance != 0:
        recycled = self._take_owed(self, dead_balance, self._acc_rem >> 128)
    stream: uint256 = self._stream
    end: uint256 = stream & _MASK_32
    rate: uint256 = 0
    rest: uint256 = 0
    if end > block.timestamp:
        rate = stream >> 64
        # end > now, checked above.
        rest = rate * unsafe_sub(end, block.timestamp)
    total: uint256 = rest + (amount + recycled) * ACC_SCALE + self.undistributed
    duration: uint256 = vesting_period
    new_rate: uint256 = total // duration
    if new_rate < rate:
        # The running rate clears `total` before `vesting_period` ends: keep it. rest >= rate,
        # so the duration is at least 1 and the rate it gives is at least `rate`.
        duration = total // rate
        new_rate = total // duration
    assert new_rate < _RATE_CAP, "revenue: payment too large"
    # Below `duration` scaled units (far below 1 wei): parked and streamed with the next payment.
    self.undistributed = total - new_rate * duration
    new_end: uint256 = block.timestamp + duration
    self._stream = (new_rate << 64) | (block.timestamp << 32) | new_end
    self.received += amount
    self.held += amount
    return new_rate, new_end, recycled


@internal
def _sync(supply: uint256):
    """
    @dev Write the accumulator forward to now (before the supply or the rate changes).
    """
    stream: uint256 = self._stream
    last: uint256 = (stream >> 32) & _MASK_32
    now: uint256 = min(block.timestamp, stream & _MASK_32)
    if now <= last:
        return
    acc_rem: uint256 = self._acc_rem
    # now > last, checked above.
    vested: uint256 = (stream >> 64) * unsafe_sub(now, last) + (acc_rem & _MASK_REM)
    acc: uint256 = acc_rem >> 128
    self._stream = (stream & ~(_MASK_32 << 32)) | (now << 32)
    if supply != 0:
        new_acc: uint256 = acc + vested // supply
        if new_acc <= _MASK_128:
            # vested % supply < supply < 2**127: the pause bit stays clear of it.
            self._acc_rem = (new_acc << 128) | (acc_rem & _PAUSED) | (vested % supply)
            return
    self.undistributed += vested
    self._acc_rem = (acc << 128) | (acc_rem & _PAUSED)


@internal
def _synced_acc(supply: uint256) -> uint256:
    """
    @dev `_sync`, then the accumulator it wrote (for the checkpoint of a mint or burn). The vault
         checked the pause flag first, so the re-read of `_acc_rem` is warm.
    """
    self._sync(supply)
    return self._acc_rem >> 128


@view
@internal
def _acc_now(supply: uint256, acc_rem: uint256) -> uint256:
    """
    @dev The accumulator as `_sync` would write it now, without writing it.
    @param acc_rem The current `_acc_rem` (the caller read it already, for the pause flag).
    """
    stream: uint256 = self._stream
    last: uint256 = (stream >> 32) & _MASK_32
    now: uint256 = min(block.timestamp, stream & _MASK_32)
    acc: uint256 = acc_rem >> 128
    if now <= last or supply == 0:
        return acc
    # now > last, checked above.
    new_acc: uint256 = acc + ((stream >> 64) * unsafe_sub(now, last) + (acc_rem & _MASK_REM)) // supply
    if new_acc > _MASK_128:
        return acc
    return new_acc


@internal
def _checkpoint(account: address, balance: uint256, acc: uint256):
    """
    @dev Credit `account` with what accrued on its balance since its last checkpoint.
    """
    packed: uint256 = self._accounts[account]
    if packed >> 128 == acc:
        return
    self._accounts[account] = (acc << 128) | self._owed(packed, balance, acc)


@internal
def _claim(account: address, balance: uint256, supply: uint256, acc_rem: uint256) -> uint256:
    """
    @dev Checkpoint `account` and take its whole wei out of what it is owed (one write).
    @param acc_rem The current `_acc_rem` (from `_require_not_paused`).
    @return uint256 The amount to pay (wei); the caller transfers it.
    """
    amount: uint256 = self._take_owed(account, balance, self._acc_now(supply, acc_rem))
    if amount != 0:
        self.held -= amount
    return amount


@internal
def _take_owed(account: address, balance: uint256, acc: uint256) -> uint256:
    """
    @dev Checkpoint `account` at `acc` and take its whole wei out of what it is owed; the sub-wei
         rest stays owed.
    """
    owed: uint256 = self._owed(self._accounts[account], balance, acc)
    self._accounts[account] = (acc << 128) | (owed & (_FRACTION - 1))
    return owed >> _FRACTION_BITS


@internal
def _move_owed(source: address, target: address):
    """
    @dev Give `target` what `source` is owed (a recovered wallet: the revenue follows the
         balance). Both were just checkpointed at the same accumulator.
    """
    source_packed: uint256 = self._accounts[source]
    owed: uint256 = source_packed & _MASK_128
    if owed == 0:
        return
    target_packed: uint256 = self._accounts[target]
    assert (target_packed & _MASK_128) + owed <= _MASK_128, "revenue: owed overflow"
    self._accounts[source] = source_packed - owed
    # The sum stays within the owed field, checked above.
    self._accounts[target] = unsafe_add(target_packed, owed)


@pure
@internal
def _owed(packed: uint256, balance: uint256, acc: uint256) -> uint256:
    """
    @dev What an account slot `packed` is owed at accumulator `acc` (units of 2**-28 wei).
    """
    owed: uint256 = packed & _MASK_128
    if balance != 0:
        # balance * (acc - checkpoint) * _FRACTION // ACC_SCALE, with _FRACTION divided out of
        # ACC_SCALE exactly. acc >= the checkpoint (the accumulator never decreases); the product
        # is below 2**255 (balance < 2**127, the vault's supply cap; acc <= 2**128 - 1).
        owed += unsafe_mul(balance, unsafe_sub(acc, packed >> 128)) // _ACC_PER_FRACTION
        assert owed <= _MASK_128, "revenue: owed overflow"
    return owed


@view
@internal
def _paused() -> bool:
    """
    @dev The importing vault's pause flag (bit 127 of `_acc_rem`).
    """
    return self._acc_rem & _PAUSED != 0


@view
@internal
def _require_not_paused() -> uint256:
    """
    @dev Revert while the importing vault is paused (snekmate pausable's reason).
    @return uint256 `_acc_rem`, for `_acc_now`: one read serves both.
    """
    acc_rem: uint256 = self._acc_rem
    assert acc_rem & _PAUSED == 0, "pausable: contract is paused"
    return acc_rem


@internal
def _set_paused(paused: bool):
    """
    @dev Set the importing vault's pause flag, keeping the accumulator and remainder.
    """
    acc_rem: uint256 = self._acc_rem & ~_PAUSED
    if paused:
        acc_rem |= _PAUSED
    self._acc_rem = acc_rem


@view
@internal
def _claimable(account: address, balance: uint256, supply: uint256) -> uint256:
    packed: uint256 = self._accounts[account]
    owed: uint256 = packed & _MASK_128
    previous: uint256 = packed >> 128
    acc: uint256 = self._acc_now(supply, self._acc_rem)
    if balance != 0 and acc > previous:
        owed += balance * (acc - previous) // _ACC_PER_FRACTION
    return owed >> _FRACTION_BITS


@view
@internal
def _unvested(supply: uint256) -> uint256:
    """
    @dev Revenue not yet vested (floor, wei): the rest of the stream, what is parked, and what has
         vested since the last write but would be parked by `_sync` (no fraction outstanding, or an
         accumulator at its cap), so that received = claimed + claimable + unvested + dust holds
         at every block, not only after a write.
    """
    stream: uint256 = self._stream
    end: uint256 = stream & _MASK_32
    rate: uint256 = stream >> 64
    scaled: uint256 = self.undistributed
    if end > block.timestamp:
        # end > now, checked above.
        scaled += rate * unsafe_sub(end, block.timestamp)
    last: uint256 = (stream >> 32) & _MASK_32
    now: uint256 = min(block.timestamp, end)
    if now > last:
        acc_rem: uint256 = self._acc_rem
        # now > last, checked above.
        vested: uint256 = rate * unsafe_sub(now, last) + (acc_rem & _MASK_REM)
        if supply == 0 or (acc_rem >> 128) + vested // supply > _MASK_128:
            scaled += vested
    return scaled // ACC_SCALE
