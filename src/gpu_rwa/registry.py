"""Operations on a deployed GpuRegistry: bulk registration (resumable), reading GPUs' terms in
bulk and the registry table. Attestations are `gpu_rwa.custody`'s."""

from pathlib import Path
from typing import NamedTuple

from ape import chain
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from pydantic import Field, field_validator, model_validator
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from gpu_rwa.chain import send
from gpu_rwa.errors import UserError
from gpu_rwa.inventory import InventoryEntry, inventory_specs
from gpu_rwa.models import StrictModel
from gpu_rwa.types import Address, GpuIdList, format_time, format_units

# The registry's DynArray bound on one register() call.
MAX_BATCH = 50
# IGpuRegistry.GpuStatus flag values.
STATUS_CODES = {"ACTIVE": 1, "LEASED": 2, "OFFLINE": 4, "IMPAIRED": 8, "RETIRED": 16}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
# What bad rows are named after when the caller does not say which file they came from.
INVENTORY = Path("inventory")


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
    source: Path = INVENTORY,
) -> int:
    """Register `entries` (read from `source`) in batches with a progress bar; returns how many
    were registered. Every row's amounts are checked against the stablecoin's `decimals` first:
    a bad one is named and nothing is sent."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise UserError(f"--batch-size must be between 1 and {MAX_BATCH}")
    specs = inventory_specs(source, entries, decimals)
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=not console.is_terminal) as progress:
        task = progress.add_task("registering", total=len(entries))
        for start in range(0, len(entries), batch_size):
            batch = entries[start : start + batch_size]
            send(
                f"registering lines {batch[0].line}-{batch[-1].line}",
                registry.register,
                owner,
                specs[start : start + batch_size],
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


# GPUs `registry list` shows unless --limit says otherwise.
DEFAULT_LIST_LIMIT = 50


class RegistryQuery(StrictModel):
    """`registry list`'s page and filters."""

    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, alias="--limit")
    offset: int = Field(default=0, ge=0, alias="--offset")
    status: str | None = Field(default=None, alias="--status")
    owner: Address | None = Field(default=None, alias="--owner")
    pool: bool = Field(default=False, alias="--pool")

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in STATUS_CODES:
            raise ValueError(f"not a status: {value!r} (one of {', '.join(STATUS_CODES)})")
        return None if value is None else value.upper()

    @model_validator(mode="after")
    def _one_holder(self):
        if self.owner is not None and self.pool:
            raise ValueError("give --owner or --pool, not both")
        return self

    def describe(self) -> str:
        """The filters as typed, e.g. `--status ACTIVE --pool` ('' for none)."""
        parts = [f"--status {self.status}"] if self.status else []
        parts += [f"--owner {self.owner}"] if self.owner else []
        return " ".join([*parts, "--pool"] if self.pool else parts)


def matching_gpus(registry: ContractInstance, query: RegistryQuery, pool_holder: str) -> list[int]:
    """The ids `query` selects, in ascending order: those an owner (or the pool's GpuCollateral,
    `pool_holder`) holds, through the ERC-721 owner index, else every id (1 to totalSupply: none
    is ever burnt); then those of the status asked, read in JSON-RPC batches."""
    holder = pool_holder if query.pool else query.owner
    if holder is None:
        token_ids = list(range(1, registry.totalSupply() + 1))
    else:
        token_ids = sorted(held_by(registry, holder))
    if query.status is not None:
        code = STATUS_CODES[query.status]
        terms = read_terms(registry, token_ids)
        token_ids = [i for i, t in zip(token_ids, terms, strict=True) if t.status == code]
    return token_ids


def registry_table(
    registry: ContractInstance, decimals: int, query: RegistryQuery, pool_holder: str
) -> Table:
    """The page of the registry `query` asks for, one row a GPU, with a caption saying how many
    match and how to see the others."""
    total = registry.totalSupply()
    matching = matching_gpus(registry, query, pool_holder)
    page = matching[query.offset : query.offset + query.limit]
    filters = query.describe()
    title = f"GpuRegistry {registry.address}: {total} GPU(s)"
    table = Table(title=title + (f", {len(matching)} matching {filters}" if filters else ""))
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
    for token_id in page:
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
    if len(page) < len(matching):
        first = query.offset + 1 if page else query.offset
        table.caption = (
            f"showing {first}-{query.offset + len(page)} of {len(matching)}; "
            "--limit and --offset page through the rest"
        )
    return table
