"""Constructor validation, roles, pause/unpause and what the pause stops, fee setters, and the
calls only the pool's GpuCollateral may make."""

import ape
import pytest
from eth_abi import decode
from hexbytes import HexBytes
from web3.exceptions import ContractLogicError

from tests.unit.collateral_vault.conftest import INSTALMENT
from tests.utils.vault import (
    ADVANCE_RATE_BPS,
    DAY,
    DEFAULT_ADMIN_ROLE,
    FEE_BPS,
    LEASE_MANAGER_ROLE,
    MAX_FEE_BPS,
    MISSING_ROLE,
    PAUSED,
    PAUSER_ROLE,
    STALENESS_WINDOW,
    UNLOCK_PERIOD,
    accounted_cash,
    buy,
    fund,
    logs_of,
    role,
)

GOOD = {
    "name": "Pool",
    "symbol": "P",
    "fee_bps": 1_000,
    "vesting_period": 30 * DAY,
}
NOT_THE_COLLATERAL = "vault: caller is not the collateral"
ERROR_SELECTOR = HexBytes("0x08c379a0")  # Error(string)


def deployment_revert_reason(container, sender, *args) -> str:
    """The revert reason of a deployment, read with eth_call. ape.reverts cannot be used here:
    ape sends the creation, and its trace of a reverted CollateralVault creation comes back
    "without message", which ape then maps to the wrong assert of the constructor (it reported
    "vault: collateral of another vault" for an empty name)."""
    data = HexBytes(container.contract_type.deployment_bytecode.bytecode) + HexBytes(
        container.constructor.encode_input(*args)
    )
    try:
        ape.chain.provider.web3.eth.call({"from": sender.address, "data": data.hex()})
    except ContractLogicError as error:
        revert_data = HexBytes(error.data if isinstance(error.data, str) else error.args[1])
        assert revert_data[:4] == ERROR_SELECTOR
        return decode(["string"], revert_data[4:])[0]
    raise AssertionError("the deployment did not revert")


def deployed_code(container, sender, *args) -> bytes:
    """The runtime code a deployment would leave (eth_call of the creation): non-empty = it
    deploys."""
    data = HexBytes(container.contract_type.deployment_bytecode.bytecode) + HexBytes(
        container.constructor.encode_input(*args)
    )
    return ape.chain.provider.web3.eth.call({"from": sender.address, "data": data.hex()})


def vault_args(args) -> list:
    return [
        str(getattr(args[key], "address", args[key]))
        if key in ("asset", "collateral", "identity", "fee_recipient")
        else args[key]
        for key in (
            "asset",
            "collateral",
            "identity",
            "name",
            "symbol",
            "fee_bps",
            "fee_recipient",
            "vesting_period",
        )
    ]


def collateral_for(project, admin, registry, vault_address):
    return project.GpuCollateral.deploy(
        vault_address, registry, ADVANCE_RATE_BPS, STALENESS_WINDOW, UNLOCK_PERIOD, sender=admin
    )


CONSTRUCTOR_REVERTS = [
    ({"asset": "eoa"}, "vault: asset is not a contract"),
    ({"collateral": "eoa"}, "vault: collateral is not a contract"),
    ({"collateral": "of another vault"}, "vault: collateral of another vault"),
    ({"identity": "eoa"}, "vault: identity registry is not a contract"),
    ({"name": ""}, "vault: empty name"),
    ({"symbol": ""}, "vault: empty symbol"),
    ({"fee_bps": MAX_FEE_BPS + 1}, "vault: fee above maximum"),
    ({"fee_recipient": "zero"}, "vault: zero fee recipient"),
    ({"asset": "31 decimals"}, "vault: asset decimals too large"),
    ({"vesting_period": DAY - 1}, "revenue: vesting period too short"),
    ({"vesting_period": 365 * DAY + 1}, "revenue: vesting period too long"),
]


@pytest.mark.anvil_only(
    "eth_call of a creation runs at the deployer's next address on Anvil, not on Ganache"
)
def test_constructor_reverts(project, admin, usdc, registry, identity):
    """Each bad argument alone makes the deployment revert with its reason; the same arguments
    without it deploy (checked with eth_call, which spends no nonce, so one collateral naming the
    deployer's next address serves every case)."""
    wide = project.MockUSDC.deploy("Wide", "W", 31, sender=admin)
    elsewhere = collateral_for(project, admin, registry, admin.address)
    # Deployed last: the vault would be the deployer's next contract.
    collateral = collateral_for(
        project, admin, registry, admin.get_deployment_address(nonce=admin.nonce + 1)
    )
    good = {
        "asset": usdc,
        "collateral": collateral,
        "identity": identity,
        **GOOD,
        "fee_recipient": admin,
    }
    assert deployed_code(project.CollateralVault, admin, *vault_args(good))
    special = {
        "eoa": admin,
        "zero": ape.utils.ZERO_ADDRESS,
        "31 decimals": wide,
        "of another vault": elsewhere,
    }
    for override, reason in CONSTRUCTOR_REVERTS:
        args = {**good}
        for key, value in override.items():
            args[key] = special.get(value, value) if isinstance(value, str) else value
        got = deployment_revert_reason(project.CollateralVault, admin, *vault_args(args))
        assert got == reason, override


def test_dead_shares_follow_the_asset_decimals(project, admin, create_vault, kit, kit18):
    """DEAD_SHARES is one whole fraction: 10 ** (asset decimals + DECIMALS_OFFSET), from a
    0-decimal asset up to the widest accepted (30 decimals)."""
    assert (kit.vault.decimals(), kit.vault.DEAD_SHARES()) == (12, 10**12)
    assert (kit18.vault.decimals(), kit18.vault.DEAD_SHARES()) == (24, 10**24)
    for decimals in (0, 30):
        token = project.MockUSDC.deploy("Coin", "C", decimals, sender=admin)
        vault = create_vault(token=token, **GOOD).vault
        assert vault.decimals() == decimals + 6
        assert vault.DEAD_SHARES() == 10 ** (decimals + 6)


def test_constructor(kit, admin, usdc, identity):
    vault = kit.vault
    assert vault.asset() == usdc.address
    assert vault.COLLATERAL() == kit.collateral.address
    assert kit.collateral.VAULT() == vault.address
    assert vault.IDENTITY_REGISTRY() == identity.address
    assert vault.fee_bps() == 1_000
    assert vault.fee_recipient() == admin
    assert vault.vesting_period() == 30 * DAY
    assert vault.DECIMALS_OFFSET() == 6
    assert vault.DEAD_SHARES() == 10**12
    assert vault.LEASE_MANAGER_ROLE() == LEASE_MANAGER_ROLE
    assert vault.PAUSER_ROLE() == PAUSER_ROLE
    assert vault.hasRole(DEFAULT_ADMIN_ROLE, admin)
    for each in (PAUSER_ROLE, LEASE_MANAGER_ROLE):
        assert vault.getRoleAdmin(each) == DEFAULT_ADMIN_ROLE
    assert vault.hasRole(LEASE_MANAGER_ROLE, kit.leases)
    assert kit.leases.COLLATERAL() == kit.collateral.address
    assert not vault.paused()
    assert (vault.totalSupply(), vault.totalAssets(), kit.collateral.value()) == (0, 0, 0)
    # The GPU flows moved to the GpuCollateral: the vault has none of them any more.
    names = {abi.name for abi in vault.contract_type.abi if getattr(abi, "name", None)}
    gone = {
        "MAX_FEE_BPS",
        "MAX_CASH",
        "SUPPLY_CAP",
        "collateral_value",
        "ADVANCE_RATE_BPS",
        "GPU_REGISTRY",
        "OPERATOR_ROLE",
        "APPRAISER_ROLE",
        "contribute",
        "buy_gpu",
        "impair_gpu",
        "sync_gpu",
        "process_maturities",
        "counts",
        "end_time_hint",
        "positions",
        "gpus_held",
    }
    assert names & gone == set()


def test_constructor_events(create_vault, admin, usdc, chain):
    vault = create_vault(token=usdc, **GOOD).vault
    receipt = chain.get_receipt(vault.txn_hash)
    [fee] = logs_of(receipt, vault, "UpdateFeeBps")
    assert (fee.previous, fee.current) == (0, 1_000)
    [recipient] = logs_of(receipt, vault, "UpdateFeeRecipient")
    assert (recipient.previous, recipient.current) == (ape.utils.ZERO_ADDRESS, admin)
    [granted] = logs_of(receipt, vault, "RoleGranted")
    assert (granted.role, granted.account, granted.sender) == (DEFAULT_ADMIN_ROLE, admin, admin)


def test_pause_unpause(kit, admin, pauser, attacker):
    vault = kit.vault
    with ape.reverts(MISSING_ROLE):
        vault.pause(sender=attacker)
    tx = vault.pause(sender=pauser)
    assert vault.paused()
    assert logs_of(tx, vault, "Paused")[0].account == pauser
    with ape.reverts(PAUSED):
        vault.pause(sender=pauser)
    with ape.reverts(MISSING_ROLE):
        vault.unpause(sender=pauser)
    tx = vault.unpause(sender=admin)
    assert not vault.paused()
    assert logs_of(tx, vault, "Unpaused")[0].account == admin
    with ape.reverts("pausable: contract is not paused"):
        vault.unpause(sender=admin)


def test_pause_stops_exactly_what_it_names(
    leased_kit,
    registry,
    admin,
    operator,
    investor,
    other_investor,
    lessee,
    pauser,
    leased,
    gpu,
    chain,
):
    """Paused: transfer, transferFrom, deposit, mint, buy, withdraw, redeem, sell, claim,
    claim_fees, the collateral's contribute and the market's sell_gpu all stop; instalments,
    skim, approve, role management and the fee setters go on."""
    vault, leases, token, collateral = (
        leased_kit.vault,
        leased_kit.leases,
        leased_kit.token,
        leased_kit.collateral,
    )
    leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += DAY
    fund(token, investor, 10**6)
    token.approve(vault, 10**6, sender=investor)
    vault.approve(other_investor, 10**12, sender=investor)
    fresh = gpu()
    registry.approve(collateral, fresh, sender=operator)
    offered = gpu()
    leased_kit.market.offer_gpu(offered, 1, chain.pending_timestamp + DAY, sender=operator)
    registry.approve(collateral, offered, sender=operator)
    vault.pause(sender=pauser)
    deadline = chain.pending_timestamp + DAY
    stopped = [
        lambda: vault.transfer(other_investor, 1, sender=investor),
        lambda: vault.transferFrom(investor, other_investor, 1, sender=other_investor),
        lambda: vault.deposit(10**6, investor, sender=investor),
        lambda: vault.mint(10**6, investor, sender=investor),
        lambda: vault.buy(10**6, investor, 0, deadline, sender=investor),
        lambda: vault.withdraw(1, investor, investor, sender=investor),
        lambda: vault.redeem(10**6, investor, investor, sender=investor),
        lambda: vault.sell(10**6, investor, 0, deadline, sender=investor),
        lambda: vault.claim(sender=investor),
        lambda: vault.claim_fees(sender=investor),
        lambda: collateral.contribute(fresh, operator, 0, sender=operator),
        lambda: leased_kit.market.sell_gpu(offered, 1, sender=operator),
    ]
    for call in stopped:
        with ape.reverts(PAUSED):
            call()
    received = vault.received()
    tx = leases.pay_instalment(leased[0], sender=lessee)
    assert logs_of(tx, vault, "RevenueDistributed")[0].amount == INSTALMENT
    assert vault.received() == received + INSTALMENT - INSTALMENT * FEE_BPS // 10_000
    tx = vault.skim(sender=investor)
    assert logs_of(tx, vault, "Skimmed")[0].donation == 0
    vault.approve(other_investor, 5, sender=investor)
    assert vault.allowance(investor, other_investor) == 5
    vault.grantRole(PAUSER_ROLE, operator, sender=admin)
    vault.revokeRole(PAUSER_ROLE, operator, sender=admin)
    vault.set_fee_bps(500, sender=admin)
    vault.set_fee_recipient(operator, sender=admin)
    assert vault.paused()


def test_set_fee_bps(kit, admin, attacker):
    vault = kit.vault
    tx = vault.set_fee_bps(MAX_FEE_BPS, sender=admin)
    [log] = logs_of(tx, vault, "UpdateFeeBps")
    assert (log.previous, log.current) == (1_000, MAX_FEE_BPS)
    assert vault.fee_bps() == MAX_FEE_BPS
    with ape.reverts("vault: fee above maximum"):
        vault.set_fee_bps(MAX_FEE_BPS + 1, sender=admin)
    with ape.reverts(MISSING_ROLE):
        vault.set_fee_bps(0, sender=attacker)


def test_set_fee_recipient(kit, admin, attacker, operator):
    vault = kit.vault
    tx = vault.set_fee_recipient(operator, sender=admin)
    [log] = logs_of(tx, vault, "UpdateFeeRecipient")
    assert (log.previous, log.current) == (admin, operator)
    assert vault.fee_recipient() == operator
    with ape.reverts("vault: zero fee recipient"):
        vault.set_fee_recipient(ape.utils.ZERO_ADDRESS, sender=admin)
    with ape.reverts(MISSING_ROLE):
        vault.set_fee_recipient(attacker, sender=attacker)


def test_role_management(kit, admin, pauser, attacker):
    vault = kit.vault
    with ape.reverts(MISSING_ROLE):
        vault.grantRole(PAUSER_ROLE, attacker, sender=attacker)
    tx = vault.revokeRole(PAUSER_ROLE, pauser, sender=admin)
    [log] = logs_of(tx, vault, "RoleRevoked")
    assert (log.role, log.account, log.sender) == (PAUSER_ROLE, pauser, admin)
    with ape.reverts(MISSING_ROLE):
        vault.pause(sender=pauser)
    assert role("PAUSER_ROLE") == PAUSER_ROLE


def test_donation_stays_outside_the_books(kit, investor, attacker):
    """Invariant 4: a donation changes neither NAV nor the books; balance - books = donations."""
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    price = vault.convertToAssets(10**12)
    fund(token, attacker, 5 * 10**6)
    token.transfer(vault, 5 * 10**6, sender=attacker)
    assert vault.convertToAssets(10**12) == price
    assert vault.totalAssets() == 2 * 10**6
    assert token.balanceOf(vault) == accounted_cash(vault) + 5 * 10**6


def test_gpu_calls_only_from_the_collateral(kit, operator, investor, attacker):
    """issue_for_gpu and pay_for_gpu are the GpuCollateral's: anyone else, the operator and the
    admin included, is refused."""
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10 * 10**6)
    for caller in (attacker, operator, investor):
        with ape.reverts(NOT_THE_COLLATERAL):
            vault.issue_for_gpu(caller, 10**6, 0, 0, sender=caller)
        with ape.reverts(NOT_THE_COLLATERAL):
            vault.pay_for_gpu(caller, 1, sender=caller)
    assert vault.free_cash() == 10 * 10**6
    assert token.balanceOf(attacker) == 0
