"""Who may call what (issue 9 item 6), driven by the compiled ABIs.

Every contract under contracts/ that the suite deploys (the CamelCase ones; not the mocks under
contracts/mocks/, the test stablecoins, nor the modules, which are not deployed on their own) has
a table in `ACCESS`, one entry per state-changing (nonpayable or payable) function of its ABI
(`project.<Name>.contract_type.abi`), keyed by its signature so that overloads count apart:
- `role(NAME)`: the holders of role NAME on the contract (or on the contract `on=` names), read
  from the chain; everyone else is refused with "access_control: account is missing role" (or the
  contract's own message);
- `contract(NAME, reason)`: only that contract of the pool (an address check);
- `holder(...)`: only the account an argument names, or who it approved (the holder of a GPU,
  the owner of fractions, a queue controller and its operators, oneself for renounceRole);
- `ANYONE`: no caller is refused for who it is (it may be refused for what it asks).
`test_every_function_has_an_entry` fails when a function has no entry, when an entry names a
function the ABI no longer has, and when a deployed contract has no table.

`test_who_may_call` calls every function from every role fixture (tests/conftest.py: admin,
operator, custodian, appraiser, compliance, pauser, lessee, both investors and the attacker, a
stranger) and from every contract of the pool, as eth_calls at one block, one JSON-RPC batch per
contract: the callers the rule allows get exactly the entry's outcome (success, or the named
business reason, never the access message), everyone else the exact access reason; an `ANYONE`
function answers no caller with a role's or a contract's refusal. The arguments would pass for
an allowed caller; the pool (`access`) is set up once for the module and nothing is sent after.

A contract added to contracts/ gets its table here, in `ACCESS` (with its roles in `ROLES`), and
its deployed instance in the `access` fixture's `contracts`; nothing else changes. Role
management (`managed_roles`) is one helper shared by every table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from ape import project

from tests.unit.gpu_collateral.conftest import reasons
from tests.utils.governance import (
    CANCELLER_ROLE,
    DELAY,
    EXECUTOR_ROLE,
    NOT_TIMELOCK,
    PROPOSER_ROLE,
    SNEKMATE_NOT_TIMELOCK,
    through,
)
from tests.utils.registry import APPRAISER_ROLE as REGISTRY_APPRAISER_ROLE
from tests.utils.registry import (
    ATTESTER_ROLE,
    CUSTODIAN_ROLE,
    ROLE_FIXTURES,
    GpuStatus,
    make_spec,
)
from tests.utils.registry import LEASE_MANAGER_ROLE as REGISTRY_LEASE_MANAGER_ROLE
from tests.utils.vault import (
    APPRAISALS_ROLE,
    COMPLIANCE_ROLE,
    DAY,
    DEFAULT_ADMIN_ROLE,
    ENFORCER_ROLE,
    FULFILLER_ROLE,
    JURISDICTION,
    LEASE_MANAGER_ROLE,
    MIN_REQUEST,
    MISSING_ROLE,
    MOVER_ROLE,
    OPERATOR_ROLE,
    PAUSER_ROLE,
    REDEMPTION_QUEUE_ROLE,
    YEAR,
    buy,
    fund,
    key_of,
)

USDC = 10**6
SHARES = 10**12
REASON = b"\x07" * 32
ZERO32 = b"\x00" * 32
INSTALMENT = 1_000 * USDC
ROLES = {
    "DEFAULT_ADMIN_ROLE": DEFAULT_ADMIN_ROLE,
    "OPERATOR_ROLE": OPERATOR_ROLE,
    "PAUSER_ROLE": PAUSER_ROLE,
    "LEASE_MANAGER_ROLE": LEASE_MANAGER_ROLE,
    "COMPLIANCE_ROLE": COMPLIANCE_ROLE,
    "REDEMPTION_QUEUE_ROLE": REDEMPTION_QUEUE_ROLE,
    "FULFILLER_ROLE": FULFILLER_ROLE,
    "APPRAISALS_ROLE": APPRAISALS_ROLE,
    "MOVER_ROLE": MOVER_ROLE,
    "ENFORCER_ROLE": ENFORCER_ROLE,
    "CUSTODIAN_ROLE": CUSTODIAN_ROLE,
    "APPRAISER_ROLE": REGISTRY_APPRAISER_ROLE,
    "ATTESTER_ROLE": ATTESTER_ROLE,
    "PROPOSER_ROLE": PROPOSER_ROLE,
    "EXECUTOR_ROLE": EXECUTOR_ROLE,
    "CANCELLER_ROLE": CANCELLER_ROLE,
}
assert ROLES["LEASE_MANAGER_ROLE"] == REGISTRY_LEASE_MANAGER_ROLE  # one name, one id

# Refusals for who the caller is, besides MISSING_ROLE.
RENOUNCE_OTHERS = "access_control: can only renounce roles for itself"
NOT_THE_COLLATERAL = "vault: caller is not the collateral"
NOT_THE_REGISTRY = "collateral: caller is not the registry"
NOT_AN_APPRAISER = "appraisals: caller is not an appraiser"
NOT_THE_ENFORCER = "identity: caller is not the pool's enforcer"
NOT_OWNER_OR_OPERATOR = "queue: caller is not owner or operator"
NOT_GPU_OWNER = "collateral: owner does not own the gpu"
ERC721_NOT_OWNER_OR_OPERATOR = "erc721: approve caller is not token owner or approved for all"
ERC721_NOT_OWNER_OR_APPROVED = "erc721: caller is not token owner or approved"
INSUFFICIENT_ALLOWANCE = "erc20: insufficient allowance"


# THE POOL #


@dataclass
class Access:
    """The module's pool, its roles and the GPUs and requests the calls name."""

    kit: Any
    chain: Any
    accounts: dict[str, Any]  # role fixture name -> account
    contracts: dict[str, Any]  # contract name -> the instance the suite deploys
    gpus: dict[str, int] = field(default_factory=dict)
    lease_id: int = 0
    holders: dict[tuple, bool] = field(default_factory=dict)  # (contract, role, caller) -> held

    def __getattr__(self, name: str):
        accounts = self.__dict__.get("accounts", {})
        if name in accounts:
            return accounts[name]
        raise AttributeError(name)

    @property
    def vault(self):
        return self.kit.vault

    def now(self) -> int:
        return self.chain.blocks.head.timestamp

    def callers(self) -> dict[str, Any]:
        """Every role fixture and every contract of the pool, by name."""
        return {**self.accounts, **self.contracts}


@pytest.fixture(scope="module")
def access(
    create_vault,
    registry,
    metadata,
    attestor,
    identity,
    custodian,
    appraiser,
    compliance,
    operator,
    lessee,
    investor,
    other_investor,
    attacker,
    admin,
    chain,
    request,
) -> Access:
    """Set up once for the module (every call is an eth_call: nothing changes it):
    - GPUs registered to the operator: `leased` (contributed, under lease 1), `held` (contributed,
      free), `listed` (contributed, listed for sale), `incoming` (approved to the collateral, to
      contribute), `free` (ACTIVE, in no pool); one registered to the investor, `offered`
      (approved to the collateral, the operator's offer open);
    - the investor holds fractions, approved the operator as a spender and the vault for its
      stablecoin; the other investor holds fractions; the lessee is funded and approved;
    - the investor's queue requests #1 fulfilled, #2 cancelled, #3 pending;
    - the attacker is frozen (what `unfreeze` needs); an hour passes (a new attestation is
      newer than the registration's)."""
    kit = create_vault()
    vault, token, collateral, market, queue = (
        kit.vault,
        kit.token,
        kit.collateral,
        kit.market,
        kit.queue,
    )
    acquired = chain.pending_timestamp - 30 * DAY

    def register(owner, approve: bool = True) -> int:
        tx = registry.register(owner, [make_spec(acquired_at=acquired)], sender=custodian)
        [log] = tx.decode_logs(registry.GpuRegistered)
        if approve:
            registry.approve(collateral, log.token_id, sender=owner)
        return log.token_id

    gpus = {name: register(operator) for name in ("leased", "held", "listed", "incoming")}
    gpus["free"] = register(operator, approve=False)
    gpus["offered"] = register(investor)
    for name in ("leased", "held", "listed"):
        collateral.contribute(gpus[name], operator, 0, sender=operator)
    buy(vault, token, investor, 10_000 * USDC)
    buy(vault, token, other_investor, 1_000 * USDC)
    fund(token, investor, 1_000 * USDC)
    token.approve(vault, 2**256 - 1, sender=investor)
    vault.approve(operator, 2**256 - 1, sender=investor)
    kit.leases.open_lease(lessee, INSTALMENT, 30 * DAY, 3, DAY, [gpus["leased"]], sender=operator)
    fund(token, lessee, 3 * INSTALMENT)
    token.approve(vault, 2**256 - 1, sender=lessee)
    for _ in range(3):
        queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    queue.fulfil(1, sender=operator)
    queue.cancelRedeemRequest(2, investor, sender=investor)
    expiry = chain.pending_timestamp + 30 * DAY
    market.offer_gpu(gpus["offered"], USDC, expiry, sender=operator)
    market.list_gpu(gpus["listed"], 100_000 * USDC, expiry, sender=operator)
    kit.compliance.freeze(attacker, REASON, sender=compliance)
    # A timelock whose proposer, canceller and executor is the admin, with a handover to the
    # operator proposed (an executed operation of its own).
    timelock = project.GovernanceTimelock.deploy(DELAY, [admin], [admin], sender=admin)
    through(timelock, admin, admin, chain, timelock.propose_handover, operator)
    chain.mine(timestamp=chain.pending_timestamp + 3_600)
    accounts = {name: request.getfixturevalue(name) for name in ROLE_FIXTURES}
    contracts = {
        "GpuRegistry": registry,
        "GpuMetadata": metadata,
        "CustodyAttestor": attestor,
        "IdentityRegistry": identity,
        "GpuCollateral": collateral,
        "CollateralVault": vault,
        "GpuAppraisals": kit.appraisals,
        "LeaseManager": kit.leases,
        "RedemptionQueue": queue,
        "GpuMarket": market,
        "PoolCompliance": kit.compliance,
        "GovernanceTimelock": timelock,
    }
    return Access(kit, chain, accounts, contracts, gpus, kit.leases.lease_count())


# THE RULES #


@dataclass(frozen=True)
class Rule:
    """Who may call: `who` as the table reads; `reason`: everyone else's refusal (None: anyone);
    `allows(pool, args, contract called, caller)`; `gate`: the refusal is for who the caller is
    (a role, a contract of the pool), not for whose assets it names."""

    who: str
    reason: str | None
    allows: Callable[[Access, tuple, str, Any], bool] | None = None
    gate: bool = False


ANYONE = Rule("anyone", None)


def role(name: str, on: str | None = None, reason: str = MISSING_ROLE) -> Rule:
    """The holders of role `name` on the contract called (or on contract `on`)."""

    def allows(a: Access, args: tuple, contract: str, caller) -> bool:
        key = (on or contract, name, key_of(caller))
        if key not in a.holders:
            a.holders[key] = a.contracts[on or contract].hasRole(ROLES[name], caller)
        return a.holders[key]

    who = name if on is None else f"{name} on {on}"
    return Rule(who, reason, allows, gate=True)


def contract(name: str, reason: str) -> Rule:
    """Only the pool's contract `name`."""
    return Rule(
        name,
        reason,
        lambda a, args, called, caller: key_of(caller) == key_of(a.contracts[name]),
        gate=True,
    )


def holder(who: str, reason: str, allows: Callable[[Access, tuple, Any], bool]) -> Rule:
    """Only the account the arguments name, or one it approved: `allows(pool, args, caller)`."""
    return Rule(who, reason, lambda a, args, called, caller: allows(a, args, caller))


def _is(account, caller) -> bool:
    return key_of(account) == key_of(caller)


SELF = holder(
    "the account named: its own role", RENOUNCE_OTHERS, lambda a, args, c: _is(args[1], c)
)


def gpu_owner_or_operator(token_arg: int) -> Rule:
    def allows(a: Access, args: tuple, caller) -> bool:
        registry = a.contracts["GpuRegistry"]
        owner = registry.ownerOf(args[token_arg])
        return _is(owner, caller) or registry.isApprovedForAll(owner, caller)

    return holder("the GPU's owner or its operator", ERC721_NOT_OWNER_OR_OPERATOR, allows)


def gpu_owner_or_approved(token_arg: int) -> Rule:
    def allows(a: Access, args: tuple, caller) -> bool:
        registry = a.contracts["GpuRegistry"]
        token_id = args[token_arg]
        owner = registry.ownerOf(token_id)
        return (
            _is(owner, caller)
            or _is(registry.getApproved(token_id), caller)
            or registry.isApprovedForAll(owner, caller)
        )

    return holder("the GPU's owner, approved or operator", ERC721_NOT_OWNER_OR_APPROVED, allows)


def gpu_owner(token_arg: int) -> Rule:
    def allows(a: Access, args: tuple, caller) -> bool:
        return _is(a.contracts["GpuRegistry"].ownerOf(args[token_arg]), caller)

    return holder("the GPU's owner", NOT_GPU_OWNER, allows)


def fraction_spender(owner_arg: int, amount_arg: int, owner_too: bool) -> Rule:
    """The owner's approved spender of fractions (and, for an exit, the owner itself)."""

    def allows(a: Access, args: tuple, caller) -> bool:
        owner = args[owner_arg]
        if owner_too and _is(owner, caller):
            return True
        return a.vault.allowance(owner, caller) >= args[amount_arg]

    who = "the owner or its spender" if owner_too else "the owner's spender"
    return holder(who, INSUFFICIENT_ALLOWANCE, allows)


def controller_or_operator(account_arg: int) -> Rule:
    def allows(a: Access, args: tuple, caller) -> bool:
        account = args[account_arg]
        return _is(account, caller) or a.kit.queue.isOperator(account, caller)

    return holder("the owner or controller, or its operator", NOT_OWNER_OR_OPERATOR, allows)


@dataclass(frozen=True)
class Entry:
    """A function's rule, the arguments it is called with, and what an allowed caller gets
    (None: success; else the exact business reason)."""

    rule: Rule
    args: Callable[[Access], tuple] = lambda a: ()
    then: str | None = None
    # False: listed, not called (a function no block's gas can run: see its entry).
    called: bool = True


def managed_roles(set_role_admin: bool = True) -> dict[str, Entry]:
    """snekmate's access_control: the admin of a role (DEFAULT_ADMIN_ROLE for every role here)
    grants and revokes it; an account renounces only its own."""
    admin = role("DEFAULT_ADMIN_ROLE")
    entries = {
        "grantRole(bytes32,address)": Entry(admin, lambda a: (DEFAULT_ADMIN_ROLE, a.attacker)),
        "revokeRole(bytes32,address)": Entry(admin, lambda a: (DEFAULT_ADMIN_ROLE, a.admin)),
        "renounceRole(bytes32,address)": Entry(SELF, lambda a: (DEFAULT_ADMIN_ROLE, a.admin)),
    }
    if set_role_admin:
        entries["set_role_admin(bytes32,bytes32)"] = Entry(
            admin, lambda a: (DEFAULT_ADMIN_ROLE, DEFAULT_ADMIN_ROLE)
        )
    return entries


def _spec(a: Access) -> list[dict]:
    return [make_spec(acquired_at=a.now() - DAY)]


# THE TABLE: contract -> function signature -> entry (or entries, one per case) #

ACCESS: dict[str, dict[str, Entry | list[Entry]]] = {
    "CollateralVault": {
        **managed_roles(set_role_admin=False),
        "approve(address,uint256)": Entry(ANYONE, lambda a: (a.operator, 1)),
        "transfer(address,uint256)": Entry(ANYONE, lambda a: (a.other_investor, 1)),
        "transferFrom(address,address,uint256)": Entry(
            fraction_spender(0, 2, owner_too=False), lambda a: (a.investor, a.other_investor, 1)
        ),
        "deposit(uint256,address)": Entry(ANYONE, lambda a: (USDC, a.investor)),
        "mint(uint256,address)": Entry(ANYONE, lambda a: (SHARES, a.investor)),
        "withdraw(uint256,address,address)": Entry(
            fraction_spender(2, 0, owner_too=True), lambda a: (1, a.investor, a.investor)
        ),
        "redeem(uint256,address,address)": Entry(
            fraction_spender(2, 0, owner_too=True), lambda a: (SHARES, a.investor, a.investor)
        ),
        "buy(uint256,address,uint256,uint256)": Entry(
            ANYONE, lambda a: (USDC, a.investor, 0, a.now() + DAY)
        ),
        "buy_with_permit(uint256,address,uint256,uint256,uint8,bytes32,bytes32)": Entry(
            ANYONE, lambda a: (USDC, a.investor, 0, a.now() + DAY, 27, b"\x01" * 32, b"\x01" * 32)
        ),
        "sell(uint256,address,uint256,uint256)": Entry(
            ANYONE, lambda a: (SHARES, a.investor, 0, a.now() + DAY)
        ),
        "issue_for_gpu(address,uint256,uint256,uint256)": Entry(
            contract("GpuCollateral", NOT_THE_COLLATERAL),
            lambda a: (a.investor, USDC, a.kit.collateral.value(), 0),
        ),
        "pay_for_gpu(address,uint256)": Entry(
            contract("GpuCollateral", NOT_THE_COLLATERAL), lambda a: (a.investor, 1)
        ),
        "collect_sale(address,uint256,uint256)": Entry(
            contract("GpuCollateral", NOT_THE_COLLATERAL), lambda a: (a.investor, 1, 1)
        ),
        "move_escrowed(address,address,uint256,bool)": Entry(
            role("REDEMPTION_QUEUE_ROLE"), lambda a: (a.investor, a.vault, SHARES, False)
        ),
        "settle_redemptions(uint256,uint256)": Entry(
            role("REDEMPTION_QUEUE_ROLE"), lambda a: (1, 0)
        ),
        "collect_instalment(uint256,address,uint256)": Entry(
            role("LEASE_MANAGER_ROLE"), lambda a: (a.lease_id, a.lessee, USDC)
        ),
        "skim()": Entry(ANYONE),
        "claim()": Entry(ANYONE),
        "claim(address)": Entry(ANYONE, lambda a: (a.investor,)),
        "claim_fees()": Entry(ANYONE),
        "pause()": Entry(role("PAUSER_ROLE")),
        "unpause()": Entry(role("DEFAULT_ADMIN_ROLE"), then="pausable: contract is not paused"),
        "set_fee_bps(uint256)": Entry(role("DEFAULT_ADMIN_ROLE"), lambda a: (100,)),
        "set_fee_recipient(address)": Entry(role("DEFAULT_ADMIN_ROLE"), lambda a: (a.admin,)),
        "enforce_freeze(address,uint256,bool)": Entry(
            role("ENFORCER_ROLE"), lambda a: (a.investor, 0, True)
        ),
        "enforce_move(address,address,uint256,bool)": Entry(
            role("ENFORCER_ROLE"), lambda a: (a.investor, a.other_investor, 1, False)
        ),
        "enforce_rules(uint256,uint256)": Entry(role("ENFORCER_ROLE"), lambda a: (1, 0)),
    },
    "CustodyAttestor": {
        **managed_roles(),
        "submit(address,uint256[],uint256,bytes[])": Entry(
            ANYONE, lambda a: (a.kit.collateral, [a.gpus["held"]], a.now(), [])
        ),
        "set_threshold(uint256)": Entry(role("DEFAULT_ADMIN_ROLE"), lambda a: (2,)),
        "set_pool_threshold(address,uint256)": Entry(
            role("DEFAULT_ADMIN_ROLE"), lambda a: (a.kit.collateral, 2)
        ),
    },
    "GpuAppraisals": {
        **managed_roles(),
        "mark(uint256,uint256,bytes32)": Entry(
            role("APPRAISER_ROLE", on="GpuRegistry", reason=NOT_AN_APPRAISER),
            lambda a: (a.gpus["held"], 1_000 * USDC, REASON),
        ),
        "settle(uint256,bytes32)": Entry(
            role("APPRAISER_ROLE", on="GpuRegistry", reason=NOT_AN_APPRAISER),
            lambda a: (a.gpus["held"], REASON),
        ),
        "set_recovery_value(uint256,uint256,bytes32)": Entry(
            role("APPRAISER_ROLE", on="GpuRegistry", reason=NOT_AN_APPRAISER),
            lambda a: (a.gpus["held"], USDC, REASON),
        ),
        "mark_default(uint256[])": Entry(
            role("LEASE_MANAGER_ROLE"), lambda a: ([a.gpus["leased"]],)
        ),
    },
    "GpuCollateral": {
        **managed_roles(),
        "contribute(uint256,address,uint256)": Entry(
            role("OPERATOR_ROLE"), lambda a: (a.gpus["incoming"], a.investor, 0)
        ),
        "admit(uint256,address,uint256)": Entry(
            role("MOVER_ROLE"), lambda a: (a.gpus["offered"], a.investor, USDC)
        ),
        "release(uint256,address,uint256)": Entry(
            role("MOVER_ROLE"), lambda a: (a.gpus["held"], a.investor, 0)
        ),
        "wind_down()": Entry(role("DEFAULT_ADMIN_ROLE")),
        "revalue(uint256,uint256,bool,uint256)": Entry(
            role("APPRAISALS_ROLE"), lambda a: (a.gpus["held"], 1_000 * USDC, False, 0)
        ),
        "on_gpu_status(uint256,uint256)": Entry(
            contract("GpuRegistry", NOT_THE_REGISTRY),
            lambda a: (a.gpus["held"], GpuStatus.IMPAIRED),
        ),
        "on_gpu_attested(uint256,uint256)": Entry(
            contract("GpuRegistry", NOT_THE_REGISTRY), lambda a: (a.gpus["held"], a.now())
        ),
        "sync(uint256)": Entry(ANYONE, lambda a: (a.gpus["held"],)),
        "process_maturities(uint256)": Entry(ANYONE, lambda a: (1,)),
        "current_value()": Entry(ANYONE),
        "entry_value()": Entry(ANYONE),
    },
    "GpuMarket": {
        **managed_roles(),
        "offer_gpu(uint256,uint256,uint256)": Entry(
            role("OPERATOR_ROLE"), lambda a: (a.gpus["free"], USDC, a.now() + DAY)
        ),
        "cancel_offer(uint256)": Entry(role("OPERATOR_ROLE"), lambda a: (a.gpus["offered"],)),
        "sell_gpu(uint256,uint256)": Entry(gpu_owner(0), lambda a: (a.gpus["offered"], USDC)),
        "list_gpu(uint256,uint256,uint256)": Entry(
            role("OPERATOR_ROLE"), lambda a: (a.gpus["held"], USDC, a.now() + DAY)
        ),
        "cancel_listing(uint256)": Entry(role("OPERATOR_ROLE"), lambda a: (a.gpus["listed"],)),
        "buy_gpu(uint256,uint256)": Entry(ANYONE, lambda a: (a.gpus["listed"], 100_000 * USDC)),
    },
    "GpuMetadata": {},
    "GpuRegistry": {
        **managed_roles(),
        "approve(address,uint256)": Entry(
            gpu_owner_or_operator(1), lambda a: (a.attacker, a.gpus["offered"])
        ),
        "setApprovalForAll(address,bool)": Entry(ANYONE, lambda a: (a.attacker, True)),
        "transferFrom(address,address,uint256)": Entry(
            gpu_owner_or_approved(2), lambda a: (a.investor, a.other_investor, a.gpus["offered"])
        ),
        "safeTransferFrom(address,address,uint256)": Entry(
            gpu_owner_or_approved(2), lambda a: (a.investor, a.other_investor, a.gpus["offered"])
        ),
        "safeTransferFrom(address,address,uint256,bytes)": Entry(
            gpu_owner_or_approved(2),
            lambda a: (a.investor, a.other_investor, a.gpus["offered"], b""),
        ),
        "permit(address,uint256,uint256,uint8,bytes32,bytes32)": Entry(
            ANYONE,
            lambda a: (
                a.attacker,
                a.gpus["offered"],
                a.now() + DAY,
                27,
                b"\x01" * 32,
                b"\x01" * 32,
            ),
        ),
        "register(address,(string,bytes32,string,uint256,uint256,uint256,uint256)[])": Entry(
            role("CUSTODIAN_ROLE"), lambda a: (a.investor, _spec(a))
        ),
        "attest(address,uint256[],uint256)": Entry(
            role("ATTESTER_ROLE"), lambda a: (a.kit.collateral, [a.gpus["held"]], a.now())
        ),
        # The role is the transition's (IGpuRegistry's table; every transition in
        # tests/unit/gpu_registry/test_set_status.py): one case per role.
        "set_status(uint256,uint256)": [
            Entry(role("CUSTODIAN_ROLE"), lambda a: (a.gpus["free"], GpuStatus.OFFLINE)),
            Entry(role("APPRAISER_ROLE"), lambda a: (a.gpus["free"], GpuStatus.IMPAIRED)),
            Entry(role("LEASE_MANAGER_ROLE"), lambda a: (a.gpus["free"], GpuStatus.LEASED)),
        ],
    },
    "IdentityRegistry": {
        **managed_roles(),
        "verify(address,uint64,uint16)": Entry(
            role("COMPLIANCE_ROLE"), lambda a: (a.attacker, a.now() + YEAR, JURISDICTION)
        ),
        "verify_batch(address[],uint64,uint16)": Entry(
            role("COMPLIANCE_ROLE"), lambda a: ([a.attacker], a.now() + YEAR, JURISDICTION)
        ),
        "revoke(address)": Entry(role("COMPLIANCE_ROLE"), lambda a: (a.investor,)),
        "revoke_batch(address[])": Entry(role("COMPLIANCE_ROLE"), lambda a: ([a.investor],)),
        "set_jurisdictions(address,uint16[],bool)": Entry(
            role("ENFORCER_ROLE", on="CollateralVault", reason=NOT_THE_ENFORCER),
            lambda a: (a.vault, [JURISDICTION], True),
        ),
        "onboard(address,uint16,uint64,uint256,uint256,address,bytes)": Entry(
            ANYONE,
            lambda a: (
                a.attacker,
                JURISDICTION,
                a.now() + YEAR,
                0,
                a.now() + DAY,
                a.compliance,
                b"\x01" * 65,
            ),
        ),
        "invalidate(address)": Entry(role("COMPLIANCE_ROLE"), lambda a: (a.attacker,)),
    },
    "LeaseManager": {
        **managed_roles(),
        "open_lease(address,uint256,uint256,uint256,uint256,uint256[])": Entry(
            role("OPERATOR_ROLE"),
            lambda a: (a.lessee, INSTALMENT, 30 * DAY, 3, DAY, [a.gpus["held"]]),
        ),
        "pay_instalment(uint256)": Entry(ANYONE, lambda a: (a.lease_id,)),
        "cure(uint256)": Entry(ANYONE, lambda a: (a.lease_id,)),
        "declare_default(uint256)": Entry(ANYONE, lambda a: (a.lease_id,)),
        "close_lease(uint256)": Entry(
            role("OPERATOR_ROLE"), lambda a: (a.lease_id,), then="lease: not defaulted"
        ),
        "pay_recovery(uint256,uint256)": Entry(ANYONE, lambda a: (a.lease_id, USDC)),
        "swap_gpu(uint256,uint256,uint256)": Entry(
            role("OPERATOR_ROLE"), lambda a: (a.lease_id, a.gpus["leased"], a.gpus["incoming"])
        ),
        "set_default_after(uint256)": Entry(role("DEFAULT_ADMIN_ROLE"), lambda a: (30 * DAY,)),
    },
    "PoolCompliance": {
        **managed_roles(set_role_admin=False),
        "freeze(address,bytes32)": Entry(role("COMPLIANCE_ROLE"), lambda a: (a.investor, REASON)),
        "unfreeze(address,bytes32)": Entry(role("COMPLIANCE_ROLE"), lambda a: (a.attacker, REASON)),
        "set_frozen_tokens(address,uint256,bytes32)": Entry(
            role("COMPLIANCE_ROLE"), lambda a: (a.investor, 1, REASON)
        ),
        "setFrozenTokens(address,uint256)": Entry(
            role("COMPLIANCE_ROLE"), lambda a: (a.investor, 1)
        ),
        "force_transfer(address,address,uint256,bytes32)": Entry(
            role("COMPLIANCE_ROLE"), lambda a: (a.investor, a.other_investor, 1, REASON)
        ),
        "forcedTransfer(address,address,uint256)": Entry(
            role("COMPLIANCE_ROLE"), lambda a: (a.investor, a.other_investor, 1)
        ),
        "recover(address,address,uint256[],bytes32)": Entry(
            role("COMPLIANCE_ROLE"), lambda a: (a.other_investor, a.operator, [], REASON)
        ),
        "set_jurisdiction_mode(uint256)": Entry(role("DEFAULT_ADMIN_ROLE"), lambda a: (1,)),
        "set_jurisdictions(uint16[],bool)": Entry(
            role("DEFAULT_ADMIN_ROLE"), lambda a: ([JURISDICTION], True)
        ),
        "set_max_balance(uint256)": Entry(role("DEFAULT_ADMIN_ROLE"), lambda a: (SHARES,)),
    },
    "GovernanceTimelock": {
        # Its DEFAULT_ADMIN_ROLE is its own: only an executed operation grants or revokes.
        **managed_roles(),
        "schedule(address,uint256,bytes,bytes32,bytes32,uint256)": Entry(
            role("PROPOSER_ROLE"), lambda a: (a.vault, 0, b"", ZERO32, ZERO32, DELAY)
        ),
        "schedule_batch(address[],uint256[],bytes[],bytes32,bytes32,uint256)": Entry(
            role("PROPOSER_ROLE"), lambda a: ([a.vault], [0], [b""], ZERO32, ZERO32, DELAY)
        ),
        "cancel(bytes32)": Entry(
            role("CANCELLER_ROLE"),
            lambda a: (ZERO32,),
            then="timelock_controller: operation cannot be cancelled",
        ),
        "execute(address,uint256,bytes,bytes32,bytes32)": Entry(
            role("EXECUTOR_ROLE"),
            lambda a: (a.vault, 0, b"", ZERO32, ZERO32),
            then="timelock_controller: operation is not ready",
        ),
        "execute_batch(address[],uint256[],bytes[],bytes32,bytes32)": Entry(
            role("EXECUTOR_ROLE"),
            lambda a: ([a.vault], [0], [b""], ZERO32, ZERO32),
            then="timelock_controller: operation is not ready",
        ),
        "update_delay(uint256)": Entry(
            contract("GovernanceTimelock", SNEKMATE_NOT_TIMELOCK), lambda a: (2 * DELAY,)
        ),
        "propose_handover(address)": Entry(
            contract("GovernanceTimelock", NOT_TIMELOCK), lambda a: (a.attacker,)
        ),
        "cancel_handover()": Entry(contract("GovernanceTimelock", NOT_TIMELOCK)),
        "accept_handover(address[])": Entry(
            holder(
                "the proposed admin (the operator here)",
                "governance: caller is not the proposed admin",
                lambda a, args, caller: _is(a.operator, caller),
            ),
            lambda a: ([],),
            then="governance: no target",
        ),
        "onERC721Received(address,address,uint256,bytes)": Entry(
            ANYONE, lambda a: (a.operator, a.operator, 1, b"")
        ),
        "onERC1155Received(address,address,uint256,uint256,bytes)": Entry(
            ANYONE, lambda a: (a.operator, a.operator, 1, 1, b"")
        ),
        # snekmate's hook takes two arrays of up to 65,535 ids: their memory alone costs more than
        # 30M gas, so no block runs it (the timelock never holds ERC-1155 batches). Anyone's.
        "onERC1155BatchReceived(address,address,uint256[],uint256[],bytes)": Entry(
            ANYONE, called=False
        ),
    },
    "RedemptionQueue": {
        **managed_roles(set_role_admin=False),
        "deposit(uint256,address)": Entry(ANYONE, lambda a: (USDC, a.investor)),
        "mint(uint256,address)": Entry(ANYONE, lambda a: (SHARES, a.investor)),
        "requestRedeem(uint256,address,address)": Entry(
            controller_or_operator(2), lambda a: (MIN_REQUEST, a.investor, a.investor)
        ),
        "setOperator(address,bool)": Entry(ANYONE, lambda a: (a.operator, True)),
        "fulfil(uint256)": Entry(role("FULFILLER_ROLE"), lambda a: (1,)),
        "redeem(uint256,address,address)": Entry(
            controller_or_operator(2), lambda a: (SHARES, a.investor, a.investor)
        ),
        "withdraw(uint256,address,address)": Entry(
            controller_or_operator(2), lambda a: (1, a.investor, a.investor)
        ),
        "cancelRedeemRequest(uint256,address)": Entry(
            controller_or_operator(1), lambda a: (3, a.investor)
        ),
        "claimCancelRedeemRequest(uint256,address,address)": Entry(
            controller_or_operator(2), lambda a: (2, a.investor, a.investor)
        ),
        "move_requests(address,address,uint256[])": Entry(
            role("ENFORCER_ROLE"), lambda a: (a.investor, a.other_investor, [3])
        ),
        "set_min_request(uint256)": Entry(role("DEFAULT_ADMIN_ROLE"), lambda a: (SHARES,)),
        "sweep()": Entry(ANYONE),
    },
}

# Refusals for who the caller is (role and pool-contract gates): an `ANYONE` function never
# answers with one of them.
GATES = {
    e.rule.reason
    for table in ACCESS.values()
    for entries in table.values()
    for e in (entries if isinstance(entries, list) else [entries])
    if e.rule.gate
}


# THE ABIS #


def deployed() -> list[str]:
    """The contracts under contracts/ the suite deploys: CamelCase sources outside mocks/."""
    names = []
    for contract_type in (project.manifest.contract_types or {}).values():
        source = contract_type.source_id or ""
        name = contract_type.name or ""
        pool_source = source.startswith("contracts/") and not source.startswith("contracts/mocks/")
        if pool_source and name[:1].isupper():
            names.append(name)
    return sorted(names)


def signature(abi) -> str:
    return f"{abi.name}({','.join(i.canonical_type for i in abi.inputs)})"


def state_changing(name: str) -> set[str]:
    """The signatures of a contract's nonpayable and payable functions, from its ABI."""
    abi = getattr(project, name).contract_type.abi
    return {
        signature(item)
        for item in abi
        if item.type == "function" and item.stateMutability in ("nonpayable", "payable")
    }


def test_every_function_has_an_entry():
    """Every deployed contract has a table, and each table names exactly the contract's
    state-changing functions."""
    assert sorted(ACCESS) == deployed(), "a contract the suite deploys has no table (or is gone)"
    problems = {}
    for name, table in ACCESS.items():
        functions = state_changing(name)
        missing, stale = functions - set(table), set(table) - functions
        if missing or stale:
            problems[name] = {"without an entry": sorted(missing), "gone": sorted(stale)}
    assert not problems, problems


# THE CALLS #


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_who_may_call(access, name):
    """Every function of `name`, from every caller, as eth_calls at one block: an allowed caller
    gets the entry's exact outcome, anyone else the rule's exact refusal; an ANYONE function
    refuses nobody for who it is."""
    a = access
    target = a.contracts[name]
    callers = a.callers()
    cases = [
        (function, entry, entry.args(a))
        for function, entries in ACCESS[name].items()
        for entry in (entries if isinstance(entries, list) else [entries])
        if entry.called
    ]
    calls = [
        (target, function.split("(")[0], args, caller)
        for function, _, args in cases
        for caller in callers.values()
    ]
    results = iter(reasons(a.chain, calls) if calls else [])
    wrong = []
    for function, entry, args in cases:
        outcome = dict(zip(callers, results, strict=False))
        rule = entry.rule
        if rule.reason is None:
            gated = {c: r for c, r in outcome.items() if r in GATES}
            if gated:
                wrong.append((function, "anyone, yet refused", gated))
            continue
        allowed = {c for c, account in callers.items() if rule.allows(a, args, name, account)}
        if not allowed:
            wrong.append((function, f"{rule.who}: no caller holds it", {}))
        expected = {c: entry.then if c in allowed else rule.reason for c in callers}
        differs = {c: (outcome[c], expected[c]) for c in callers if outcome[c] != expected[c]}
        if differs:
            wrong.append((function, rule.who, differs))
    assert not wrong, "\n".join(f"{f} [{who}]: {d}" for f, who, d in wrong)
