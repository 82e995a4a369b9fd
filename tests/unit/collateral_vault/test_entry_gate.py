"""Entries wait out a temporary write-down (the fix of finding c's lapse buyer): while a counted GPU
is stale (its attestation older than the staleness window, to the grid day) or returning on its
ramp (re-attested, or restored from IMPAIRED, until the ramp's end), the collateral's
`entry_value` refuses, so deposit, mint, buy and buy_with_permit revert with the exact reason and
maxDeposit/maxMint are 0. Exits (redeem, withdraw, sell) keep pricing from `current_value`: they go
through at the written-down NAV. A purchase of a GPU with cash mints nothing and is not held back.
At the ramp's end entries reopen, and every max* is exact again; a GPU restored from IMPAIRED
comes back one step below its straight line and holds them (`held_down`) until the appraiser
marks it back to the line or settles (tests/unit/gpu_collateral/test_entries.py, and
tests/unit/gpu_appraisals)."""

import ape
import pytest

from tests.utils.custody import attest
from tests.utils.exploits import (
    Ledger,
    curve_of,
    one_block,
    pool_value,
    refused_in_its_block,
    set_time,
)
from tests.utils.market import sell_gpu
from tests.utils.registry import GpuStatus
from tests.utils.vault import (
    DAY,
    ENTRIES_WAIT,
    buy,
    contribute,
    fund,
    logs_of,
    max_deposit,
    max_mint,
    max_redeem,
    max_withdraw,
    permit_signature,
    to_assets,
    to_shares,
)

USDC = 10**6
ENTRY = 10_000 * USDC
REASON = b"\x5a" * 32


@pytest.fixture
def pool_gpu(kit, registry, operator, investor, other_investor, gpu) -> int:
    """The default pool: one default GPU contributed by the operator (its fractions pay for the
    dead shares), then 100,000 USDC from the investor; other_investor is funded and has approved
    the vault, ready to enter. Returns the GPU's id."""
    token_id = gpu()
    contribute(kit.collateral, registry, operator, token_id)
    buy(kit.vault, kit.token, investor, 100_000 * USDC)
    fund(kit.token, other_investor, 4 * ENTRY)
    kit.token.approve(kit.vault, 2**256 - 1, sender=other_investor)
    return token_id


def entries_closed(kit, accounts, down: int = 1) -> None:
    """`down` GPUs are written down: the collateral refuses entries and the vault's max* for
    entrants are 0 (verified accounts all)."""
    assert kit.collateral.written_down() == down
    assert not kit.collateral.entries_open()
    for account in accounts:
        assert kit.vault.maxDeposit(account) == kit.vault.maxMint(account) == 0


def entries_exact(kit, accounts) -> None:
    """No GPU is written down: maxDeposit/maxMint are the references' (the caps), for entrants."""
    vault = kit.vault
    assert kit.collateral.written_down() == 0
    assert kit.collateral.entries_open()
    total, supply, cash = vault.totalAssets(), vault.totalSupply(), vault.free_cash()
    for account in accounts:
        assert vault.maxDeposit(account) == max_deposit(total, supply, cash) > 0
        assert vault.maxMint(account) == max_mint(total, supply, cash, 0) > 0


def test_entries_close_on_the_stale_day(kit, pool_gpu, registry, investor, other_investor, chain):
    """Open to the last second of the window, with exact maxima; closed from the stale day (the
    view counts the due change already)."""
    stale_at = curve_of(kit.collateral, registry, pool_gpu).stale_at
    set_time(chain, stale_at - 1)
    entries_exact(kit, (investor, other_investor))
    set_time(chain, stale_at)
    assert kit.collateral.pending() == 1
    entries_closed(kit, (investor, other_investor))
    assert kit.vault.totalAssets() == kit.vault.free_cash()


@pytest.mark.parametrize("entry", ["deposit", "mint", "buy", "buy_with_permit"])
def test_entries_refused_while_stale(
    kit, pool_gpu, registry, operator, investor, other_investor, chain, entry
):
    vault, token = kit.vault, kit.token
    set_time(chain, curve_of(kit.collateral, registry, pool_gpu).stale_at + DAY)
    entries_closed(kit, (other_investor,))
    deadline = chain.pending_timestamp + DAY
    if entry == "buy_with_permit":
        token.approve(vault, 0, sender=other_investor)  # the permit is what would allow it
        v, r, s = permit_signature(token, other_investor, vault, ENTRY, deadline)
    ledger = Ledger(kit, [operator, investor, other_investor])
    before = ledger.take()
    with ape.reverts(ENTRIES_WAIT):
        if entry == "deposit":
            vault.deposit(ENTRY, other_investor, sender=other_investor)
        elif entry == "mint":
            vault.mint(10**15, other_investor, sender=other_investor)
        elif entry == "buy":
            vault.buy(ENTRY, other_investor, 0, deadline, sender=other_investor)
        else:
            vault.buy_with_permit(
                ENTRY, other_investor, 0, deadline, v, r, s, sender=other_investor
            )
    assert ledger.take() == before
    if entry == "buy_with_permit":
        assert token.allowance(other_investor, vault) == 0  # the permit went with the revert


def test_exits_go_through_at_the_written_down_nav(
    kit, pool_gpu, registry, operator, investor, other_investor, gpu, chain
):
    """Redeem, withdraw and sell while the GPU is stale: priced at cash only, each to the wei,
    with exact maxRedeem/maxWithdraw; the first matures the stale day itself."""
    vault, token, collateral = kit.vault, kit.token, kit.collateral
    stale_at = curve_of(collateral, registry, pool_gpu).stale_at
    set_time(chain, stale_at + DAY)
    cash, supply = vault.free_cash(), vault.totalSupply()
    assert vault.totalAssets() == cash == 100_000 * USDC
    balance = vault.balanceOf(investor)
    assert vault.maxRedeem(investor) == max_redeem(balance, cash, supply, cash) == balance
    assert vault.maxWithdraw(investor) == max_withdraw(balance, cash, supply, cash)

    shares = balance // 4
    tx = vault.redeem(shares, investor, investor, sender=investor)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.owner, log.receiver, log.shares) == (investor, investor, shares)
    assert log.assets == to_assets(shares, cash, supply) == token.balanceOf(investor)
    [matured] = logs_of(tx, collateral, "ScheduleMatured")
    assert (matured.at, matured.gpus) == (stale_at, 1)
    assert collateral.written_down() == 1
    cash, supply = cash - log.assets, supply - shares

    tx = vault.withdraw(1_000 * USDC, investor, investor, sender=investor)
    [log] = logs_of(tx, vault, "Withdraw")
    assert log.shares == to_shares(1_000 * USDC, cash, supply, roundup=True)
    cash, supply = cash - 1_000 * USDC, supply - log.shares

    shares = vault.balanceOf(investor) // 2
    quote = to_assets(shares, cash, supply)
    tx = vault.sell(shares, investor, quote, chain.pending_timestamp + DAY, sender=investor)
    [log] = logs_of(tx, vault, "Withdraw")
    assert log.assets == quote
    assert vault.free_cash() == cash - quote
    entries_closed(kit, (investor, other_investor))

    # A GPU bought with free cash mints nothing: its owner's acceptance is not held back.
    price = 20_000 * USDC
    cash = vault.free_cash()
    tx = sell_gpu(kit.market, registry, operator, gpu(), price)
    [purchased] = logs_of(tx, kit.market, "GpuPurchased")
    assert purchased.price == price <= purchased.value
    assert vault.free_cash() == cash - price
    assert collateral.schedule_state()[1:] == (2, 1)
    entries_closed(kit, (investor, other_investor))


@pytest.mark.parametrize("comes_back", ["re-attested", "restored"])
def test_entries_wait_out_the_ramp(
    kit, pool_gpu, registry, attestor, appraiser, investor, other_investor, chain, comes_back
):
    """A GPU that comes back (re-attested after going stale, or restored from IMPAIRED) keeps
    entries closed until its ramp's end, the last second included (a deposit mined then is
    refused). At the ramp's end a re-attested GPU opens them; a restored one is back on its
    step's line, below its straight line, and holds them until the appraiser settles it (in
    that second here). Then maxDeposit and maxMint are exact again and a deposit and a mint are
    priced at the full NAV."""
    vault, collateral = kit.vault, kit.collateral
    if comes_back == "re-attested":
        set_time(chain, curve_of(collateral, registry, pool_gpu).stale_at + DAY)
        tx = attest(attestor, [pool_gpu])
    else:
        registry.set_status(pool_gpu, GpuStatus.IMPAIRED, sender=appraiser)
        chain.pending_timestamp += DAY
        tx = registry.set_status(pool_gpu, GpuStatus.ACTIVE, sender=appraiser)
    curve = curve_of(collateral, registry, pool_gpu)
    assert curve.since == tx.timestamp < curve.ramp_end < curve.stale_at
    entries_closed(kit, (investor, other_investor))
    set_time(chain, (curve.since + curve.ramp_end) // 2)
    entries_closed(kit, (investor, other_investor))

    deposit = (vault.deposit, (ENTRY, other_investor), other_investor)
    with one_block(chain, timestamp=curve.ramp_end - 1, may_revert=True) as block:
        block.append(deposit)
    refused_in_its_block(block[0], ENTRIES_WAIT, *deposit)
    assert vault.balanceOf(other_investor) == 0

    ramp_end = curve.ramp_end
    set_time(chain, ramp_end)
    if comes_back == "restored":
        assert (collateral.written_down(), collateral.held_down()) == (0, 1)
        assert not collateral.entries_open()
        chain.pending_timestamp = ramp_end
        tx = kit.appraisals.settle(pool_gpu, REASON, sender=appraiser)
        assert tx.timestamp == ramp_end
        assert collateral.held_down() == 0
        curve = curve_of(collateral, registry, pool_gpu)
    cash, supply = vault.free_cash(), vault.totalSupply()
    assert vault.totalAssets() == cash + pool_value([curve], ramp_end)
    entries_exact(kit, (investor, other_investor))
    tx = vault.deposit(ENTRY, other_investor, sender=other_investor)
    [log] = logs_of(tx, vault, "Deposit")
    assert log.shares == to_shares(ENTRY, cash + pool_value([curve], tx.timestamp), supply)
    cash, supply = cash + ENTRY, supply + log.shares
    tx = vault.mint(10**15, other_investor, sender=other_investor)
    [log] = logs_of(tx, vault, "Deposit")
    total = cash + pool_value([curve], tx.timestamp)
    assert log.assets == to_assets(10**15, total, supply, roundup=True)
    entries_exact(kit, (investor, other_investor))
