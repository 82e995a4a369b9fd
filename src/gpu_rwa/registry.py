"""Operations on a deployed GpuRegistry: bulk registration (resumable), reading GPUs' terms in
bulk and the registry table. Attestations are `gpu_rwa.custody`'s."""

from typing import NamedTuple

from ape import chain
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from pydantic import Field, model_validator
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from gpu_rwa.chain import send
from gpu_rwa.errors import UserError
from gpu_rwa.inventory import InventoryEntry
from gpu_rwa.models import StrictModel
from gpu_rwa.types import GpuIdList, format_time, format_units

# The registry's DynArray bound on one register() call.
MAX_BATCH = 50
# IGpuRegistry.GpuStatus flag values.
STATUS_CODES = {"ACTIVE": 1, "LEASED": 2, "OFFLINE": 4, "IMPAIRED": 8, "RETIRED": 16}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}


def pending_entries(
    registry: ContractInstance, entries: list[InventoryEntry]
) -> list[InventoryEntry]:
    """The entries whose serial is not on chain yet: what an interrupted run left to do."""
    return [e for e in entries if registry.token_of_serial(e.row.serial_hash) == 0]


def check_not_future(entries: list[InventoryEntry], path: str) -> None:
    now = chain.pending_timestamp
    late = [e for e in entries if e.row.acquired_at.timestamp() > now]
    if late:
        raise UserError(
            f"{path}:{late[0].line}: acquired_at {late[0].row.acquired_at:%Y-%m-%d %H:%M} is after "
            f"the chain's time ({format_time(now)}); nothing sent"
        )


def register_entries(
    registry: ContractInstance,
    entries: list[InventoryEntry],
    owner: str,
    sender: AccountAPI,
    *,
    decimals: int,
    batch_size: int = MAX_BATCH,
    console: Console,
) -> int:
    """Register `entries` in batches with a progress bar; returns how many were registered."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise UserError(f"--batch-size must be between 1 and {MAX_BATCH}")
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=not console.is_terminal) as progress:
        task = progress.add_task("registering", total=len(entries))
        for start in range(0, len(entries), batch_size):
            batch = entries[start : start + batch_size]
            send(
                f"registering lines {batch[0].line}-{batch[-1].line}",
                registry.register,
                owner,
                [e.row.to_spec(decimals) for e in batch],
                sender=sender,
            )
            progress.advance(task, len(batch))
    batches = -(-len(entries) // batch_size)
    console.print(f"registered {len(entries)} GPU(s) in {batches} transaction(s)")
    return len(entries)


class Attestation(StrictModel):
    token_ids: GpuIdList = Field(default_factory=list, alias="IDS")
    all_held: bool = Field(default=False, alias="--all-held")

    @model_validator(mode="after")
    def _ids_or_all_held(self):
        if bool(self.token_ids) == self.all_held:
            raise ValueError("give GPU ids or --all-held (one of the two)")
        return self


# Calls per JSON-RPC batch when reading many GPUs at once.
READ_BATCH = 100


class Terms(NamedTuple):
    """GpuRegistry.terms(id): what a pool values a GPU from."""

    owner: str
    cost: int
    salvage: int
    acquired_at: int
    useful_life: int
    status: int
    last_attested_at: int

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, str(self.status))


def read_terms(registry: ContractInstance, token_ids: list[int]) -> list[Terms]:
    """`terms(id)` of each registered id, read in JSON-RPC batches: through ape each call is a
    round trip plus tens of milliseconds of Python, which a custodian attesting hundreds of GPUs
    would wait for."""
    web3 = chain.provider.web3
    output = [o.canonical_type for o in registry.terms.abis[0].outputs]
    terms = []
    for start in range(0, len(token_ids), READ_BATCH):
        with web3.batch_requests() as batch:
            for token_id in token_ids[start : start + READ_BATCH]:
                data = registry.terms.encode_input(token_id)
                batch.add(web3.eth.call({"to": registry.address, "data": data}))
            for raw in batch.execute():
                owner, *values = abi_decode(output, raw)[0]
                terms.append(Terms(to_checksum_address(owner), *values))
    return terms


def held_by(registry: ContractInstance, holder: str) -> list[int]:
    """Every GPU `holder` owns (the ERC-721 owner index)."""
    return [registry.tokenOfOwnerByIndex(holder, i) for i in range(registry.balanceOf(holder))]


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def registry_table(registry: ContractInstance, decimals: int, limit: int | None = None) -> Table:
    total = registry.totalSupply()
    shown = total if limit is None else min(limit, total)
    table = Table(title=f"GpuRegistry {registry.address}: {total} GPU(s)")
    for column in (
        "id",
        "model",
        "serial hash",
        "data centre",
        "cost",
        "book value",
        "status",
        "attested",
        "owner",
    ):
        table.add_column(
            column, justify="right" if column in ("id", "cost", "book value") else "left"
        )
    for index in range(shown):
        token_id = registry.tokenByIndex(index)
        gpu = registry.gpu(token_id)
        table.add_row(
            str(token_id),
            gpu.model,
            "0x" + bytes(gpu.serial_hash).hex()[:10] + "…",
            gpu.data_centre,
            format_units(gpu.acquisition_cost, decimals),
            format_units(registry.book_value(token_id), decimals),
            STATUS_NAMES.get(gpu.status, str(gpu.status)),
            format_time(gpu.last_attested_at),
            _short(registry.ownerOf(token_id)),
        )
    if shown < total:
        table.caption = f"first {shown} of {total}; --limit to see more"
    return table
