"""ERC-4626 conformance with end-of-life dates pending (issue 6, items d and j): a flow matures
up to 16 due schedule nodes itself and refuses beyond, so every max* is 0 while more than 16 are
due (the calls revert with the reason that names the catching-up call), and exact again once
`process_maturities` leaves 16: the call with the max succeeds (maturing the 16 first), max + 1
reverts with the exact reason."""

import ape
import pytest

from tests.utils.registry import make_spec
from tests.utils.vault import (
    ADVANCE_RATE_BPS,
    BPS,
    DAY,
    MATURE_STEPS,
    MATURITIES_PENDING,
    OPERATOR_ROLE,
    collateral_value,
    max_deposit,
    max_mint,
    max_redeem,
    max_withdraw,
    mint_to,
    smallest_flows_refused,
    to_assets,
    to_shares,
)

DUE = MATURE_STEPS + 1  # one more than a flow matures itself
COST = 30_000 * 10**6
SALVAGE = 3_000 * 10**6


@pytest.fixture(scope="module")
def due_pool(create_vault, registry, custodian, admin, operator, investor, chain):
    """A 6-decimal pool with 10,000 USDC from the investor and 17 GPUs contributed by the
    operator, whose ends of life fall on 17 different days (1..17 days after contribution); then
    18 days pass: 17 nodes are due (their attestations are still fresh for 11 more days). After
    that the GPUs sit at salvage, so the NAV no longer moves with the clock."""
    kit = create_vault()
    vault, token, collateral = kit.vault, kit.token, kit.collateral
    mint_to(token, admin, investor, 10_000 * 10**6)
    token.approve(vault, 2**256 - 1, sender=investor)
    vault.deposit(10_000 * 10**6, investor, sender=investor)
    now = chain.pending_timestamp
    acquired = now - 30 * DAY
    specs = [
        make_spec(
            acquired_at=acquired,
            useful_life=30 * DAY + k * DAY,
            acquisition_cost=COST,
            salvage_value=SALVAGE,
        )
        for k in range(1, DUE + 1)
    ]
    tx = registry.register(operator, specs, sender=custodian)
    ids = [log.token_id for log in tx.decode_logs(registry.GpuRegistered)]
    registry.setApprovalForAll(collateral, True, sender=operator)
    assert collateral.hasRole(OPERATOR_ROLE, operator)
    for token_id in ids:
        collateral.contribute(token_id, operator, 0, sender=operator)
    chain.mine(timestamp=now + (DUE + 1) * DAY)
    assert collateral.pending() == DUE
    return kit


def test_max_zero_while_more_than_16_are_due(due_pool, investor, operator, attacker):
    vault, collateral = due_pool.vault, due_pool.collateral
    # Views count every due node: NAV is free cash plus the 17 salvage values, never understated.
    value = DUE * (SALVAGE * ADVANCE_RATE_BPS // BPS) - DUE
    assert collateral_value(vault) == collateral.value() == value
    assert vault.totalAssets() == 10_000 * 10**6 + value
    for holder in (investor, operator):
        for view in (vault.maxDeposit, vault.maxMint, vault.maxWithdraw, vault.maxRedeem):
            assert view(holder) == 0
    smallest_flows_refused(vault, investor, MATURITIES_PENDING)
    # Anyone catches up, one node at a time if it wants: then the flows price again.
    tx = collateral.process_maturities(1, sender=attacker)
    assert len(tx.decode_logs(collateral.ScheduleMatured)) == 1
    assert collateral.pending() == MATURE_STEPS
    assert vault.totalAssets() == 10_000 * 10**6 + value
    assert vault.maxRedeem(investor) == vault.balanceOf(investor)


@pytest.mark.parametrize(
    ("call", "holder", "reason"),
    [
        ("deposit", "investor", "vault: supply cap"),
        ("mint", "investor", "vault: supply cap"),
        ("withdraw", "investor", "erc20: burn amount exceeds balance"),  # the balance binds
        ("redeem", "investor", "erc20: burn amount exceeds balance"),
        ("withdraw", "operator", "vault: insufficient free cash"),  # free cash binds
        ("redeem", "operator", "vault: insufficient free cash"),
    ],
)
def test_max_exact_with_16_due(due_pool, request, admin, attacker, call, holder, reason):
    vault, token, collateral = due_pool.vault, due_pool.token, due_pool.collateral
    account = request.getfixturevalue(holder)
    collateral.process_maturities(1, sender=attacker)
    assert collateral.pending() == MATURE_STEPS
    total, supply, cash = vault.totalAssets(), vault.totalSupply(), vault.free_cash()
    balance = vault.balanceOf(account)
    if call == "deposit":
        expected = max_deposit(total, supply, cash)
        assert vault.maxDeposit(account) == expected
    elif call == "mint":
        expected = max_mint(total, supply, cash, 0)
        assert vault.maxMint(account) == expected
    elif call == "withdraw":
        expected = max_withdraw(balance, total, supply, cash)
        assert vault.maxWithdraw(account) == expected
    else:
        expected = max_redeem(balance, total, supply, cash)
        assert vault.maxRedeem(account) == expected
    assert expected > 0
    if call in ("deposit", "mint"):
        price = expected + 1 if call == "deposit" else to_assets(expected + 1, total, supply, True)
        mint_to(token, admin, account, price)
        token.approve(vault, 2**256 - 1, sender=account)

    def send(amount):
        if call in ("deposit", "mint"):
            return getattr(vault, call)(amount, account, sender=account)
        return getattr(vault, call)(amount, account, account, sender=account)

    with ape.reverts(reason):
        send(expected + 1)
    tx = send(expected)
    # The flow matured the 16 due nodes itself before pricing.
    assert len(tx.decode_logs(collateral.ScheduleMatured)) == MATURE_STEPS
    assert collateral.pending() == 0
    if call == "deposit":
        result = (tx.decode_logs(vault.Deposit)[0].shares, to_shares(expected, total, supply))
    elif call == "mint":
        result = (tx.decode_logs(vault.Deposit)[0].assets, to_assets(expected, total, supply, True))
    elif call == "withdraw":
        result = (
            tx.decode_logs(vault.Withdraw)[0].shares,
            to_shares(expected, total, supply, True),
        )
    else:
        result = (tx.decode_logs(vault.Withdraw)[0].assets, to_assets(expected, total, supply))
    assert result[0] == result[1]
