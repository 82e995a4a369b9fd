"""GPUs into a pool's vault: contributed for fractions, or bought with the vault's free cash.

A GPU enters only if the sender (the operator) owns it and it is ACTIVE: the vault values it at its
collateral value (book value x advance rate) at the block it enters.
"""

from ape.api import AccountAPI, ReceiptAPI
from ape.exceptions import ContractLogicError

from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.pool import BPS, Pool, require_not_paused, require_verified
from gpu_rwa.registry import STATUS_CODES, STATUS_NAMES


def _require_enterable(pool: Pool, sender: AccountAPI, token_id: int) -> None:
    try:
        gpu = pool.registry.gpu(token_id)
    except ContractLogicError as exc:
        raise UserError(f"GPU {token_id} is not registered") from exc
    owner = pool.registry.ownerOf(token_id)
    if owner == pool.vault.address:
        raise UserError(f"GPU {token_id} is already in the vault")
    if owner != sender.address:
        raise UserError(f"GPU {token_id} belongs to {owner}, not to the sender {sender.address}")
    if gpu.status != STATUS_CODES["ACTIVE"]:
        status = STATUS_NAMES.get(gpu.status, str(gpu.status))
        raise UserError(f"GPU {token_id} is {status}; only ACTIVE GPUs can enter the vault")


def _approve_vault(pool: Pool, sender: AccountAPI) -> list[ReceiptAPI]:
    registry = pool.registry
    if registry.isApprovedForAll(sender.address, pool.vault.address):
        return []
    return [
        send(
            "approving the vault for GPUs",
            registry.setApprovalForAll,
            pool.vault.address,
            True,
            sender=sender,
        )
    ]


def contribute(
    pool: Pool, sender: AccountAPI, token_ids: list[int], receiver: str | None
) -> list[tuple[int, int, int]]:
    """Contribute GPUs; returns (token id, collateral value, fractions minted) for each."""
    receiver = receiver or sender.address
    require_not_paused(pool, "contributing")
    require_role(pool.vault, "OPERATOR_ROLE", sender.address, "vault")
    require_verified(pool, receiver, "receiver")
    for token_id in token_ids:
        _require_enterable(pool, sender, token_id)
    _approve_vault(pool, sender)
    entered = []
    for token_id in token_ids:
        receipt = send(
            f"contributing GPU {token_id}",
            pool.vault.contribute,
            token_id,
            receiver,
            0,  # fractions are minted at NAV for the value measured in the same block
            pool.vault.end_time_hint(token_id),
            sender=sender,
        )
        log = next(iter(pool.vault.GpuContributed.from_receipt(receipt)))
        entered.append((token_id, log.value, log.shares))
    return entered


def buy_gpu(pool: Pool, sender: AccountAPI, token_id: int, price: int) -> ReceiptAPI:
    """The vault buys `token_id` from the sender for `price` of free cash (at most its value)."""
    require_not_paused(pool, "buying GPUs")
    require_role(pool.vault, "OPERATOR_ROLE", sender.address, "vault")
    _require_enterable(pool, sender, token_id)
    # The registry's book value only falls: this bound is what the vault will check, or above it.
    ceiling = pool.registry.book_value(token_id) * pool.vault.ADVANCE_RATE_BPS() // BPS
    if price > ceiling:
        raise UserError(
            f"--price {pool.cash(price)}: GPU {token_id} counts {pool.cash(ceiling)} of collateral"
        )
    free_cash = pool.vault.free_cash()
    if price > free_cash:
        raise UserError(f"--price {pool.cash(price)}: the vault has {pool.cash(free_cash)} free")
    _approve_vault(pool, sender)
    return send(
        f"buying GPU {token_id}",
        pool.vault.buy_gpu,
        token_id,
        price,
        pool.vault.end_time_hint(token_id),
        sender=sender,
    )
