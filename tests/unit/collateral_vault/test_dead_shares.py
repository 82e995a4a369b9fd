"""Finding e, "the revenue accumulator can be saturated", and the Decision "Never a tiny supply":
the first mint (deposit, mint or contribution) locks DEAD_SHARES with the vault for ever, paid by
the first buyer; the supply never falls below them; what they earn is the vault's own revenue
account, streamed back to holders at the next payment or skim; conservation holds at every block
(vested-but-unwritten revenue included), and the accumulator can no longer be pushed to its cap
through a tiny supply."""

import ape
import pytest

from tests.utils.registry import GpuStatus
from tests.utils.vault import (
    ACC_SCALE,
    ADVANCE_RATE_BPS,
    BPS,
    DAY,
    FEE_BPS,
    FIRST_MINT_BELOW_DEAD,
    JURISDICTION,
    MASK_128,
    VESTING_PERIOD,
    YEAR,
    RevenueModel,
    buy,
    check_conservation_all,
    collateral_value,
    contribute,
    dead_shares,
    first_deposit_shares,
    first_mint_assets,
    fund,
    logs_of,
    mint_to,
    to_assets,
    to_shares,
)

# The issue's try: a lease of 4,000 a month, 3,600 net of the 10% fee, vesting at a tiny supply.
ISSUE_INSTALMENT = 4_000 * 10**6
ISSUE_NET = ISSUE_INSTALMENT - ISSUE_INSTALMENT * FEE_BPS // BPS


def test_first_deposit_locks_dead_shares(any_kit, investor):
    vault, token = any_kit.vault, any_kit.token
    dead = dead_shares(token.decimals())
    assert vault.DEAD_SHARES() == dead
    assets = 5 * 10 ** token.decimals() + 3
    minted = to_shares(assets, 0, 0)
    assert vault.convertToShares(assets) == minted  # the ideal conversion: all shares minted
    tx = buy(vault, token, investor, assets)
    shares = first_deposit_shares(assets, dead)
    assert shares == minted - dead > 0
    assert vault.balanceOf(investor) == shares
    assert vault.balanceOf(vault) == dead
    assert vault.totalSupply() == minted
    assert vault.free_cash() == assets
    to_vault, to_investor = logs_of(tx, vault, "Transfer")
    assert (to_vault.sender, to_vault.receiver, to_vault.value) == (
        ape.utils.ZERO_ADDRESS,
        vault,
        dead,
    )
    assert (to_investor.sender, to_investor.receiver, to_investor.value) == (
        ape.utils.ZERO_ADDRESS,
        investor,
        shares,
    )
    [deposit] = logs_of(tx, vault, "Deposit")
    assert (deposit.sender, deposit.owner, deposit.assets, deposit.shares) == (
        investor,
        investor,
        assets,
        shares,
    )
    # The first buyer paid for the dead shares: its fractions are worth less than it paid.
    assert vault.previewRedeem(shares) == to_assets(shares, assets, minted) < assets


def test_preview_deposit_is_no_more_than_a_first_deposit_gives(kit, investor, chain):
    """EIP-4626: previewDeposit "MUST return as close to and no more than the exact amount of
    Vault shares that would be minted in a deposit call in the same transaction", i.e. deposit
    returns at least previewDeposit. On a first deposit the receiver gets the shares less
    DEAD_SHARES (what deposit returns and its Deposit event says), so previewDeposit must not
    count the dead shares in (previewMint rightly counts their cost in: mint takes it). In
    practice: a first buy bounded by previewDeposit (what `ape run invest buy` does, less its
    slippage) must go through."""
    vault, token = kit.vault, kit.token
    assets = 5 * 10**6
    fund(token, investor, assets)
    token.approve(vault, assets, sender=investor)
    preview = vault.previewDeposit(assets)
    tx = vault.buy(assets, investor, preview, chain.pending_timestamp + 60, sender=investor)
    returned = logs_of(tx, vault, "Deposit")[0].shares
    assert returned == vault.balanceOf(investor) == 4 * 10**12 == preview


def test_first_deposit_must_exceed_dead_shares(kit, investor, other_investor):
    vault, token = kit.vault, kit.token
    fund(token, investor, 3 * 10**6)
    token.approve(vault, 3 * 10**6, sender=investor)
    with ape.reverts(FIRST_MINT_BELOW_DEAD):
        vault.deposit(10**6, investor, sender=investor)  # exactly DEAD_SHARES: nothing left
    with ape.reverts(FIRST_MINT_BELOW_DEAD):
        vault.deposit(1, investor, sender=investor)
    assert vault.totalSupply() == 0
    tx = vault.deposit(10**6 + 1, investor, sender=investor)
    assert logs_of(tx, vault, "Deposit")[0].shares == 10**6 == vault.balanceOf(investor)
    # Only the first mint pays: the next deposit gets its full NAV worth.
    tx = vault.deposit(10**6, other_investor, sender=investor)
    supply = 10**12 + 10**6
    assert logs_of(tx, vault, "Deposit")[0].shares == to_shares(10**6, 10**6 + 1, supply)
    assert vault.balanceOf(vault) == 10**12


@pytest.mark.parametrize("shares", [1, 10**12, 7 * 10**12 + 5])
def test_first_mint_pays_for_dead_shares(kit, investor, shares):
    vault, token = kit.vault, kit.token
    dead = vault.DEAD_SHARES()
    cost = first_mint_assets(shares, dead)
    assert cost == -(-(shares + dead) // 10**6)
    assert vault.previewMint(shares) == cost
    fund(token, investor, cost)
    token.approve(vault, cost, sender=investor)
    tx = vault.mint(shares, investor, sender=investor)
    assert vault.balanceOf(investor) == shares
    assert vault.balanceOf(vault) == dead
    assert vault.totalSupply() == shares + dead
    assert vault.free_cash() == cost
    assert token.balanceOf(investor) == 0
    [deposit] = logs_of(tx, vault, "Deposit")
    assert (deposit.assets, deposit.shares) == (cost, shares)
    # Once there is a supply, mint prices only the shares asked for.
    assert vault.previewMint(shares) == to_assets(shares, cost, shares + dead, roundup=True)


def test_first_contribution_locks_dead_shares(kit, registry, operator, investor, flat_gpu):
    vault, collateral = kit.vault, kit.collateral
    token_id = flat_gpu(cost=30_000 * 10**6)
    value = 30_000 * 10**6 * ADVANCE_RATE_BPS // BPS - 1
    tx = contribute(collateral, registry, operator, token_id, receiver=investor)
    shares = to_shares(value, 0, 0) - 10**12
    [log] = tx.decode_logs(collateral.GpuContributed)
    assert (log.token_id, log.contributor, log.receiver, log.value, log.shares) == (
        token_id,
        operator,
        investor,
        value,
        shares,
    )
    assert vault.balanceOf(investor) == shares
    assert vault.balanceOf(vault) == 10**12
    assert vault.totalSupply() == shares + 10**12
    to_vault, to_investor = logs_of(tx, vault, "Transfer")
    assert (to_vault.receiver, to_vault.value) == (vault, 10**12)
    assert (to_investor.receiver, to_investor.value) == (investor, shares)


def test_first_contribution_below_dead_shares_reverts(kit, registry, operator, flat_gpu):
    """A GPU worth at most one whole fraction cannot open a pool (it would all be dead)."""
    vault, collateral = kit.vault, kit.collateral
    small = flat_gpu(cost=10**6)  # collateral value 799,999 wei: 0.8 of a fraction
    registry.approve(collateral, small, sender=operator)
    with ape.reverts(FIRST_MINT_BELOW_DEAD):
        collateral.contribute(small, operator, 0, sender=operator)
    assert vault.totalSupply() == 0
    assert registry.ownerOf(small) == operator
    enough = flat_gpu(cost=2 * 10**6)  # 1,599,999 wei: 0.6 of a fraction left to the operator
    tx = contribute(collateral, registry, operator, enough)
    assert tx.decode_logs(collateral.GpuContributed)[0].shares == 1_599_999 * 10**6 - 10**12


def test_supply_never_falls_below_dead_shares(kit, investor, other_investor, attacker):
    """Every holder leaves: the dead shares stay, with the cash they are worth, and nobody can
    move them (the vault approves no one)."""
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 1_000 * 10**6)
    buy(vault, token, other_investor, 333 * 10**6 + 1)
    for holder in (investor, other_investor):
        vault.redeem(vault.balanceOf(holder), holder, holder, sender=holder)
    assert vault.totalSupply() == vault.DEAD_SHARES() == vault.balanceOf(vault)
    paid_out = token.balanceOf(investor) + token.balanceOf(other_investor)
    assert vault.free_cash() == 1_333 * 10**6 + 1 - paid_out == vault.totalAssets()
    assert vault.free_cash() >= 10**6 - 1  # what the dead shares cost the first buyer
    with ape.reverts("erc20: insufficient allowance"):
        vault.redeem(10**12, vault, vault, sender=attacker)
    with ape.reverts("identity: owner not verified"):
        vault.redeem(10**12, attacker, vault, sender=attacker)
    with ape.reverts("erc20: insufficient allowance"):
        vault.transferFrom(vault, other_investor, 1, sender=other_investor)
    # The next buyer is not a first buyer: it pays NAV for its shares only.
    total = vault.totalAssets()
    tx = buy(vault, token, other_investor, 10**6)
    assert logs_of(tx, vault, "Deposit")[0].shares == to_shares(10**6, total, 10**12)
    assert vault.balanceOf(vault) == 10**12


def test_dead_share_revenue_recycled_at_the_next_payment(
    leased_kit, leased, lessee, investor, operator, chain
):
    vault, leases = leased_kit.vault, leased_kit.leases
    holders = (investor, operator)
    model = RevenueModel.read(vault, holders)
    supply, dead = vault.totalSupply(), vault.balanceOf(vault)
    net = 10_000 * 10**6 * (BPS - FEE_BPS) // BPS
    tx = leases.pay_instalment(leased[0], sender=lessee)
    assert logs_of(tx, vault, "RevenueDistributed")[0].recycled == 0
    model.distribute(net, supply, vault, dead, tx.timestamp)
    chain.mine(timestamp=tx.timestamp + 10 * DAY)
    earned = vault.claimable(vault)
    assert earned == model.claimable(vault, dead, supply, tx.timestamp + 10 * DAY) > 0
    check_conservation_all(vault, holders, claimed=0)
    chain.pending_timestamp = tx.timestamp + 10 * DAY + 1
    tx = leases.pay_instalment(leased[0], sender=lessee)
    rate, end, recycled = model.distribute(net, supply, vault, dead, tx.timestamp)
    [log] = logs_of(tx, vault, "RevenueDistributed")
    assert (log.recycled, log.rate, log.vesting_end) == (recycled, rate, end)
    # What the view showed a second earlier, plus that second of the dead shares' revenue.
    assert earned <= recycled <= earned + earned // (10 * DAY) + 1
    model.assert_matches(vault, holders)
    assert vault.claimable(vault) == 0  # taken back into the stream
    assert vault.received() == 2 * net  # recycling moves revenue, it does not receive it again
    check_conservation_all(vault, holders, claimed=0)
    chain.mine(timestamp=end + 1)
    check_conservation_all(vault, holders, claimed=0)


def test_dead_share_revenue_recycled_by_skim(leased_kit, leased, lessee, investor, operator, chain):
    vault, leases = leased_kit.vault, leased_kit.leases
    holders = (investor, operator)
    model = RevenueModel.read(vault, holders)
    supply, dead = vault.totalSupply(), vault.balanceOf(vault)
    net = 10_000 * 10**6 * (BPS - FEE_BPS) // BPS
    tx = leases.pay_instalment(leased[0], sender=lessee)
    model.distribute(net, supply, vault, dead, tx.timestamp)
    chain.pending_timestamp = tx.timestamp + 40 * DAY  # fully vested
    tx = vault.skim(sender=lessee)
    rate, end, recycled = model.distribute(0, supply, vault, dead, tx.timestamp)
    [log] = logs_of(tx, vault, "Skimmed")
    assert (log.donation, log.recycled, log.rate, log.vesting_end) == (0, recycled, rate, end)
    assert recycled == dead * net // supply - 1 or recycled == dead * net // supply
    assert end == tx.timestamp + VESTING_PERIOD
    model.assert_matches(vault, holders)
    chain.mine(timestamp=end)
    # Re-streamed to everyone pro rata, the dead shares' tiny part of it included.
    check_conservation_all(vault, holders, claimed=0)
    assert vault.unvested() == 0


def write_off(registry, token_id: int, appraiser, custodian) -> None:
    """The GPU is impaired, then retired: its value leaves NAV for good. (Impaired alone, it
    would hold entries until restored or retired: nobody buys at a write-down that may come
    back, and these scenarios need a pool whose NAV is gone and whose entries are open.)"""
    registry.set_status(token_id, GpuStatus.IMPAIRED, sender=appraiser)
    registry.set_status(token_id, GpuStatus.RETIRED, sender=custodian)


@pytest.fixture
def abandoned(kit, registry, identity, compliance, operator, investor, attacker, lessee, gpu):
    """The issue's pool: a GPU leased at 4,000 a month, the first instalment paid, the GPU
    written off (impaired, then retired), every holder gone. Only the dead shares remain while
    the instalment vests. The attacker is verified (it may hold fractions). Returns the lease
    id."""
    vault, token, collateral, leases = kit.vault, kit.token, kit.collateral, kit.leases
    identity.verify(attacker, 2**40, JURISDICTION, sender=compliance)
    token_id = gpu()
    contribute(collateral, registry, operator, token_id, receiver=investor)
    buy(vault, token, investor, 10_000 * 10**6)
    leases.open_lease(lessee, ISSUE_INSTALMENT, 30 * DAY, 12, 5 * DAY, [token_id], sender=operator)
    fund(token, lessee, 12 * ISSUE_INSTALMENT)
    token.approve(vault, 2**256 - 1, sender=lessee)
    fund(token, attacker, 10**6)
    token.approve(vault, 2**256 - 1, sender=attacker)
    return leases.lease_count(), token_id


def test_issue_scenario_one_wei_holder_after_payment_at_dead_supply(
    kit, abandoned, registry, appraiser, custodian, investor, attacker, lessee, chain
):
    """The issue's case: the holders leave while a payment vests, the next payment is made while
    the supply is only the dead shares, then a 1-wei holder arrives. Every block: received =
    claimed + claimable (holders and the vault) + unvested + dust, each term exact against the
    model (the issue found 600 USDC in neither claimable nor unvested)."""
    vault, leases = kit.vault, kit.leases
    lease_id, token_id = abandoned
    holders = (investor, attacker)
    model = RevenueModel.read(vault, holders)

    def step(at=None):
        if at is not None:
            chain.mine(timestamp=at)
        now = chain.blocks.head.timestamp
        supply = vault.totalSupply()
        for holder in (*holders, vault):
            balance = vault.balanceOf(holder)
            assert vault.claimable(holder) == model.claimable(holder, balance, supply, now)
        assert vault.unvested() == model.unvested(supply, now)
        check_conservation_all(vault, holders, claimed=0)

    supply, dead = vault.totalSupply(), vault.balanceOf(vault)
    tx = leases.pay_instalment(lease_id, sender=lessee)
    model.distribute(ISSUE_NET, supply, vault, dead, tx.timestamp)
    step()
    # The GPU is written off and every holder leaves while the instalment vests.
    chain.pending_timestamp = tx.timestamp + DAY
    write_off(registry, token_id, appraiser, custodian)
    assert collateral_value(vault) == 0
    balance = vault.balanceOf(investor)
    assert vault.maxRedeem(investor) == balance
    tx = vault.redeem(balance, investor, investor, sender=investor)
    model.burn(investor, balance, supply, tx.timestamp)
    assert vault.totalSupply() == dead  # only the dead shares hold the stream now
    step()
    step(at=tx.timestamp + 3 * DAY)
    # The next instalment is paid while the supply is only the dead shares.
    chain.pending_timestamp = tx.timestamp + 3 * DAY + 1
    tx = leases.pay_instalment(lease_id, sender=lessee)
    rate, end, recycled = model.distribute(ISSUE_NET, dead, vault, dead, tx.timestamp)
    [log] = logs_of(tx, vault, "RevenueDistributed")
    assert (log.recycled, log.rate, log.vesting_end) == (recycled, rate, end)
    assert recycled > 0  # what the dead shares earned meanwhile goes back into the stream
    model.assert_matches(vault, holders)
    step()
    step(at=tx.timestamp + DAY)
    # The 1-wei holder arrives.
    chain.pending_timestamp = tx.timestamp + DAY + 1
    cost = vault.previewMint(1)
    tx = vault.mint(1, attacker, sender=attacker)
    model.mint(attacker, 0, dead, tx.timestamp)
    assert logs_of(tx, vault, "Deposit")[0].assets == cost == 1
    model.assert_matches(vault, holders)
    step()
    for at in (tx.timestamp + 1, tx.timestamp + DAY, tx.timestamp + 29 * DAY, tx.timestamp + YEAR):
        step(at=at)
    # Fully vested: both instalments are claimable (the dead shares' part streams back at the
    # next payment or skim), none of it stuck: only the sub-wei dust is in neither.
    claimable = sum(vault.claimable(h) for h in (*holders, vault))
    assert vault.unvested() == 0
    assert 2 * ISSUE_NET - 4 <= claimable <= 2 * ISSUE_NET
    assert vault.claimable(attacker) == model.claimable(attacker, 1, dead + 1, at)
    assert vault.undistributed() < ACC_SCALE  # below one wei parked: division leftovers only


def test_accumulator_cannot_be_saturated(
    kit, abandoned, registry, appraiser, custodian, investor, attacker, lessee, chain
):
    """The issue's attack: the supply is tiny while a payment vests, and the attacker mints
    exact tiny amounts so that the accumulator grows by vested / supply. With dead shares the
    supply is never below DEAD_SHARES, so a month of 3,600 USDC moves the accumulator by
    3.6e9 * 1e36 / 1e12 = 3.6e33, five orders of magnitude below its 128-bit cap: it would take
    ~3.4e8 whole USDC vested at the minimum supply to reach the cap."""
    vault, leases = kit.vault, kit.leases
    lease_id, token_id = abandoned
    holders = (investor, attacker)
    model = RevenueModel.read(vault, holders)
    supply = vault.totalSupply()
    tx = leases.pay_instalment(lease_id, sender=lessee)
    model.distribute(ISSUE_NET, supply, vault, vault.balanceOf(vault), tx.timestamp)
    write_off(registry, token_id, appraiser, custodian)
    balance = vault.balanceOf(investor)
    tx = vault.redeem(balance, investor, investor, sender=investor)
    model.burn(investor, balance, supply, tx.timestamp)
    dead = vault.DEAD_SHARES()
    # Every holder left: only the dead shares hold the stream.
    assert vault.totalSupply() == dead
    acc_start = vault.revenue_state()[0]
    # The attack: exact tiny mints, each one syncing the accumulator at a supply of dead + k.
    for k in range(4):
        chain.pending_timestamp = tx.timestamp + 7 * DAY
        supply = vault.totalSupply()
        balance = vault.balanceOf(attacker)
        tx = vault.mint(1, attacker, sender=attacker)
        model.mint(attacker, balance, supply, tx.timestamp)
        model.assert_matches(vault, holders)
        assert vault.totalSupply() == dead + k + 1
    chain.pending_timestamp = tx.timestamp + 30 * DAY
    tx = vault.mint(1, attacker, sender=attacker)
    model.mint(attacker, 4, dead + 4, tx.timestamp)
    model.assert_matches(vault, holders)
    acc = vault.revenue_state()[0]
    # The whole month vested into the accumulator at a supply of at least DEAD_SHARES.
    assert acc - acc_start <= ISSUE_NET * ACC_SCALE // dead
    assert acc < MASK_128 // 10**4
    assert vault.undistributed() < ACC_SCALE  # nothing parked
    # The bound: revenue that would still fit, vested at the minimum supply, in whole USDC.
    headroom = (MASK_128 - acc) * dead // ACC_SCALE // 10**6
    assert 3.3e8 < headroom < 3.5e8
    # And the payments after it are distributed, not parked: the next instalment streams.
    supply = vault.totalSupply()
    tx = leases.pay_instalment(lease_id, sender=lessee)
    _, end, recycled = model.distribute(
        ISSUE_NET, supply, vault, vault.balanceOf(vault), tx.timestamp
    )
    assert recycled > ISSUE_NET * 99 // 100  # the dead shares' month comes back into the stream
    model.assert_matches(vault, holders)
    chain.mine(timestamp=end)
    check_conservation_all(vault, holders, claimed=0)
    assert vault.undistributed() < ACC_SCALE


def test_revenue_at_zero_supply_is_counted_and_streamed_back(kit, investor, attacker, chain):
    """Revenue that vests while no fraction exists (a donation skimmed into an empty vault) is
    parked, counted as unvested at every block, and streamed to holders at the next skim."""
    vault, token = kit.vault, kit.token
    holders = (investor,)
    fund(token, attacker, 1_000 * 10**6)
    token.transfer(vault, 1_000 * 10**6, sender=attacker)
    model = RevenueModel.read(vault, holders)
    tx = vault.skim(sender=attacker)
    rate, end, recycled = model.distribute(1_000 * 10**6, 0, vault, 0, tx.timestamp)
    [log] = logs_of(tx, vault, "Skimmed")
    assert (log.donation, log.recycled, log.rate, log.vesting_end) == (
        1_000 * 10**6,
        0,
        rate,
        end,
    )
    for at in (tx.timestamp + 1, tx.timestamp + DAY):
        chain.mine(timestamp=at)
        # Nobody holds a fraction: all of it is unvested (vested-but-parked included).
        assert vault.unvested() == model.unvested(0, at) == 1_000 * 10**6
        check_conservation_all(vault, holders, claimed=0)
    skimmed_at = tx.timestamp
    chain.pending_timestamp = skimmed_at + DAY + 1
    tx = buy(vault, token, investor, 5_000 * 10**6)
    model.first_mint(vault, investor, vault.DEAD_SHARES(), tx.timestamp)
    model.assert_matches(vault, holders)
    # The first mint parked what vested with no fraction outstanding (plus the line's leftover).
    parked = model.undistributed
    leftover = 1_000 * 10**6 * ACC_SCALE - rate * VESTING_PERIOD
    assert parked == rate * (tx.timestamp - skimmed_at) + leftover
    chain.mine(timestamp=end + 1)
    supply = vault.totalSupply()
    assert vault.unvested() == model.unvested(supply, end + 1) == parked // ACC_SCALE > 0
    check_conservation_all(vault, holders, claimed=0)
    # The next skim streams it back to the holders.
    chain.pending_timestamp = end + 2
    tx = vault.skim(sender=attacker)
    rate, end, recycled = model.distribute(0, supply, vault, 10**12, tx.timestamp)
    assert logs_of(tx, vault, "Skimmed")[0].recycled == recycled
    model.assert_matches(vault, holders)
    chain.mine(timestamp=end)
    assert vault.unvested() == 0
    assert vault.undistributed() < ACC_SCALE
    check_conservation_all(vault, holders, claimed=0)
    assert vault.claimable(investor) + vault.claimable(vault) >= 1_000 * 10**6 - 3


def test_beyond_the_bound_revenue_is_parked_counted_and_streamed_back(
    kit18, admin, investor, attacker, chain
):
    """Past the bound (here a billion-token donation to a pool of two tokens, 18 decimals): what
    would push the accumulator past 128 bits is parked, not lost: the views count it as unvested
    at every block, the next skim streams it again, and it reaches the holders as the vault is
    touched (each write credits what fits)."""
    vault, token = kit18.vault, kit18.token
    holders = (investor,)
    mint_to(token, admin, investor, 3 * 10**18)
    token.approve(vault, 2**256 - 1, sender=investor)
    vault.deposit(2 * 10**18, investor, sender=investor)
    donation = 10**27
    mint_to(token, admin, attacker, donation)
    token.transfer(vault, donation, sender=attacker)
    model = RevenueModel.read(vault, holders)
    supply = vault.totalSupply()
    tx = vault.skim(sender=attacker)
    model.distribute(donation, supply, vault, 10**24, tx.timestamp)
    model.assert_matches(vault, holders)
    # A month unwritten: the whole month no longer fits the accumulator, so the views show it
    # all as unvested, nothing claimable yet; conservation holds.
    at = tx.timestamp + VESTING_PERIOD
    chain.mine(timestamp=at)
    assert vault.claimable(investor) == model.claimable(investor, 10**24, supply, at) == 0
    assert vault.unvested() == model.unvested(supply, at) == donation
    check_conservation_all(vault, holders, claimed=0)
    # A write (a deposit) parks it, accounted.
    chain.pending_timestamp = at + 1
    balance = vault.balanceOf(investor)
    tx = vault.deposit(10**18, investor, sender=investor)
    model.mint(investor, balance, supply, tx.timestamp)
    model.assert_matches(vault, holders)
    assert vault.undistributed() >= donation * ACC_SCALE - ACC_SCALE
    check_conservation_all(vault, holders, claimed=0)
    # The next skim streams it again; a day later the holders claim the day that fits.
    supply = vault.totalSupply()
    chain.pending_timestamp = tx.timestamp + 1
    tx = vault.skim(sender=attacker)
    model.distribute(0, supply, vault, 10**24, tx.timestamp)
    model.assert_matches(vault, holders)
    assert vault.undistributed() < ACC_SCALE
    chain.pending_timestamp = tx.timestamp + DAY
    balance = vault.balanceOf(investor)
    tx = vault.claim(sender=investor)
    claimed = model.claim(investor, balance, supply, tx.timestamp)
    # A day of the 30-day line, for two thirds of the supply: 1/45 of it.
    assert logs_of(tx, vault, "RevenueClaimed")[0].amount == claimed > donation // 46
    model.assert_matches(vault, holders)
    check_conservation_all(vault, holders, claimed=claimed)
