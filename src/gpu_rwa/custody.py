"""Custodians' signed attestations, submitted through the CustodyAttestor.

A custodian who saw GPUs in place and running signs, off chain, the EIP-712 struct
`Attestation(uint256[] tokenIds,uint256 attestedAt)` in the attestor's domain ("GPU RWA Custody",
"1", chain id, attestor). `plan_attestation` turns a list of ids into batches (one holder each,
at most MAX_SIGN_BATCH ids) and `sign_batches` signs them into a signatures file; `add_signature`
adds another custodian's signature to such a file (M-of-N); `submit_batches` sends the batches
not yet submitted. Every check the contracts make is made here first, so a bad input is one line
and nothing is sent or written.

The digest is computed here (no call to the attestor's `digest` view, which the unit tests prove
equal); signatures are checked to recover to their signer before a file is written or read. The
EIP-712 plumbing shared with the compliance officer's signatures is `gpu_rwa.signing`.
"""

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from ape import chain
from ape.api import AccountAPI, ReceiptAPI
from ape.contracts import ContractInstance
from eth_abi import encode as abi_encode
from eth_account.messages import SignableMessage
from eth_utils import keccak
from pydantic import BeforeValidator, Field, PositiveInt, field_validator, model_validator

from gpu_rwa import signing
from gpu_rwa.chain import send
from gpu_rwa.config import MAX_CUSTODY_THRESHOLD
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel, load_json_model, write_json_model
from gpu_rwa.registry import STATUS_CODES, Terms, read_terms

# Re-exported: the custody scripts and tests sign and check through this module.
from gpu_rwa.signing import HexSignature, Signer, message_digest, recover, sign
from gpu_rwa.types import Address, Bytes32, GpuIdList, format_moment, parse_time

DOMAIN_NAME = "GPU RWA Custody"
DOMAIN_VERSION = "1"
# Ids one signed batch holds (the attestor takes up to 1,024; 500 keeps a batch's gas, hooks of a
# pool's GPUs included, well inside a block).
MAX_SIGN_BATCH = 500
# Where `custody sign` finds the custodian's key when no --account is given.
KEY_ENV = "GPU_RWA_CUSTODIAN_KEY"

_ATTESTATION_TYPEHASH = keccak(text="Attestation(uint256[] tokenIds,uint256 attestedAt)")
_MAX_TIME = 2**40 - 1

# EIP-712 #


def domain_separator(chain_id: int, attestor: str) -> bytes:
    """The attestor's EIP-712 domain separator (what its `eip712Domain` describes)."""
    return signing.domain_separator(DOMAIN_NAME, DOMAIN_VERSION, chain_id, attestor)


def attestation_message(
    chain_id: int, attestor: str, token_ids: Iterable[int], attested_at: int
) -> SignableMessage:
    """`Attestation(tokenIds, attestedAt)` as an EIP-712 signable message (version 0x01)."""
    ids_hash = keccak(b"".join(token_id.to_bytes(32, "big") for token_id in token_ids))
    struct_hash = keccak(
        abi_encode(
            ["bytes32", "bytes32", "uint256"], [_ATTESTATION_TYPEHASH, ids_hash, attested_at]
        )
    )
    return SignableMessage(b"\x01", domain_separator(chain_id, attestor), struct_hash)


def sign_all(signers: Iterable[Signer], message: SignableMessage) -> list[bytes]:
    """Each signer's signature of `message`, ordered by signer address (as the attestor takes
    them)."""
    return [sign(signer, message) for signer in sorted(signers, key=lambda a: int(a.address, 16))]


# FILES #


class IdsFile(StrictModel):
    """The ids a custodian attests: registered GPU ids, none twice."""

    token_ids: Annotated[GpuIdList, Field(min_length=1)]


def _id_tokens(path: Path, text: str) -> list[tuple[str, Any]]:
    """(where, raw id) of each id in an ids file: a JSON list, a CSV file with a `token_id`
    column, or text with ids separated by spaces, commas or new lines (`#` starts a comment)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: not valid JSON (line {exc.lineno})") from exc
        if not isinstance(data, list):
            raise UserError(f"{path}: a JSON ids file is a list of GPU ids, e.g. [1, 2, 3]")
        return [(f"{path}: item {index}", item) for index, item in enumerate(data, start=1)]
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if "token_id" not in (reader.fieldnames or []):
            raise UserError(f"{path}:1: no `token_id` column in the header")
        return [
            (f"{path}:{reader.line_num}", record["token_id"])
            for record in reader
            if (record["token_id"] or "").strip()
        ]
    return [
        (f"{path}:{number}", raw)
        for number, line in enumerate(text.splitlines(), start=1)
        for raw in line.split("#", 1)[0].replace(",", " ").split()
    ]


def _gpu_id(raw: object) -> int | None:
    """A GPU id as written in an ids file (digits, or a JSON integer), or None."""
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw)
    if type(raw) is int and 1 <= raw < 2**256:
        return raw
    return None


def load_ids(path: Path) -> list[int]:
    """The GPU ids of an ids file (see `_id_tokens`), or UserError naming the line at fault."""
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    token_ids: list[int] = []
    first_seen: dict[int, str] = {}
    for where, raw in _id_tokens(path, text):
        if (token_id := _gpu_id(raw)) is None:
            raise UserError(f"{where}: not a GPU id: {raw!r} (ids are whole numbers from 1)")
        if token_id in first_seen:
            raise UserError(
                f"{where}: GPU {token_id} is listed twice (first at {first_seen[token_id]})"
            )
        first_seen[token_id] = where
        token_ids.append(token_id)
    if not token_ids:
        raise UserError(f"{path}: no GPU id in the file")
    return IdsFile(token_ids=token_ids).token_ids


class CustodianSignature(StrictModel):
    signer: Address
    signature: HexSignature


class SignedBatch(StrictModel):
    """One `submit`: a holder's GPUs, the digest signed and the signatures, ascending by signer."""

    holder: Address
    token_ids: Annotated[GpuIdList, Field(min_length=1, max_length=MAX_SIGN_BATCH)]
    digest: Bytes32
    signatures: Annotated[list[CustodianSignature], Field(max_length=MAX_CUSTODY_THRESHOLD)]

    @field_validator("signatures")
    @classmethod
    def _ascending(cls, value: list[CustodianSignature]) -> list[CustodianSignature]:
        signers = [int(s.signer, 16) for s in value]
        if signers != sorted(set(signers)):
            raise ValueError("signers must be in ascending order, each once")
        return value

    @property
    def signers(self) -> list[str]:
        return [s.signer for s in self.signatures]

    def label(self, index: int) -> str:
        """`batch 2 (GPUs 501-1000)` or `batch 1 (GPUs 1, 3, 7)`."""
        ids = self.token_ids
        contiguous = ids == list(range(ids[0], ids[0] + len(ids)))
        listed = f"{ids[0]}-{ids[-1]}" if contiguous and len(ids) > 2 else ", ".join(map(str, ids))
        if len(listed) > 40:
            listed = f"{ids[0]}, {ids[1]}, … ({len(ids)} GPUs)"
        return f"batch {index} (GPU{'s' if len(ids) > 1 else ''} {listed})"


class SignaturesFile(StrictModel):
    """What `custody sign` writes and `custody submit` sends: one attestation time, the chain and
    attestor the signatures are bound to, and the batches."""

    chain_id: PositiveInt
    attestor: Address
    attested_at: Annotated[int, Field(gt=0, le=_MAX_TIME)]
    batches: Annotated[list[SignedBatch], Field(min_length=1)]

    @model_validator(mode="after")
    def _signed_as_said(self) -> "SignaturesFile":
        seen: set[int] = set()
        for index, batch in enumerate(self.batches, start=1):
            if twice := seen.intersection(batch.token_ids):
                raise ValueError(f"batch {index}: GPU {min(twice)} is in an earlier batch too")
            seen.update(batch.token_ids)
            message = self.message(batch)
            if "0x" + message_digest(message).hex() != batch.digest:
                raise ValueError(f"batch {index}: digest is not that of its ids and time")
            for signed in batch.signatures:
                try:
                    recovered = recover(message, bytes.fromhex(signed.signature[2:]))
                except ValueError as exc:
                    raise ValueError(f"batch {index}: signature of {signed.signer}: {exc}") from exc
                if recovered != signed.signer:
                    raise ValueError(
                        f"batch {index}: the signature of {signed.signer} recovers to {recovered}"
                    )
        return self

    def message(self, batch: SignedBatch) -> SignableMessage:
        return attestation_message(self.chain_id, self.attestor, batch.token_ids, self.attested_at)

    @property
    def token_ids(self) -> list[int]:
        return [token_id for batch in self.batches for token_id in batch.token_ids]


def load_signatures(path: Path) -> SignaturesFile:
    return load_json_model(SignaturesFile, path)


def write_signatures(signed: SignaturesFile, path: Path) -> None:
    """Atomic: a crash leaves the old file or the new one, never half of one."""
    write_json_model(signed, path)


# CLI INPUT #


AttestationTime = Annotated[int, BeforeValidator(parse_time), Field(gt=0, le=_MAX_TIME)]


class SignRequest(StrictModel):
    attested_at: AttestationTime | None = Field(default=None, alias="--at")
    batch_size: Annotated[int, Field(ge=1, le=MAX_SIGN_BATCH)] = Field(
        default=MAX_SIGN_BATCH, alias="--batch-size"
    )


def resolve_signer(alias: str | None) -> Signer:
    """`--account` if given; else the key in $GPU_RWA_CUSTODIAN_KEY; else, on a local chain, the
    custodian's test account."""
    return signing.resolve_signer(alias, "custodian", KEY_ENV)


# CHECKS #


def check_attestable(
    registry: ContractInstance,
    token_ids: list[int],
    attested_at: int,
    holders: dict[int, str] | None = None,
) -> dict[int, Terms]:
    """What `GpuRegistry.attest` checks of each id, at `attested_at`: registered, held by its
    holder in `holders` (when given), not RETIRED, last attested before `attested_at`, which is
    not after the chain's time. Returns each id's terms."""
    now = chain.pending_timestamp
    if attested_at > now:
        raise UserError(
            f"the attestation time {format_moment(attested_at)} is after the chain's time "
            f"{format_moment(now)}"
        )
    total = registry.totalSupply()
    for token_id in token_ids:
        if token_id > total:
            known = f"ids run from 1 to {total}" if total else "no GPU is registered yet"
            raise UserError(f"GPU {token_id} is not registered ({known})")
    terms = dict(zip(token_ids, read_terms(registry, token_ids), strict=True))
    for token_id, gpu in terms.items():
        if holders is not None and gpu.owner != holders[token_id]:
            raise UserError(
                f"GPU {token_id} is held by {gpu.owner} now, not {holders[token_id]} as when "
                "signed: sign it again"
            )
        if gpu.status == STATUS_CODES["RETIRED"]:
            raise UserError(f"GPU {token_id} is RETIRED: a retired GPU is not attested")
        if gpu.last_attested_at >= attested_at:
            raise UserError(
                f"GPU {token_id} was last attested at {format_moment(gpu.last_attested_at)}: an "
                f"attestation at {format_moment(attested_at)} is not newer"
            )
    return terms


def _require_custodian(registry: ContractInstance, signer: str, where: str = "") -> None:
    if not registry.hasRole(registry.CUSTODIAN_ROLE(), signer):
        raise UserError(f"{where}{signer} does not hold CUSTODIAN_ROLE on the registry")


def _require_binding(signed: SignaturesFile, attestor: ContractInstance, path: Path) -> None:
    """The file's signatures are for this chain and this attestor."""
    if signed.chain_id != chain.chain_id:
        raise UserError(
            f"{path} is signed for chain id {signed.chain_id}, not this chain ({chain.chain_id})"
        )
    if signed.attestor != attestor.address:
        raise UserError(
            f"{path} is signed for the attestor {signed.attestor}, not this deployment's "
            f"({attestor.address})"
        )


# SIGNING #


def plan_batches(
    token_ids: list[int], terms: dict[int, Terms], batch_size: int
) -> list[tuple[str, list[int]]]:
    """(holder, ids) of each batch: the ids grouped by their owner in the order listed, each
    group cut into batches of at most `batch_size`."""
    by_holder: dict[str, list[int]] = {}
    for token_id in token_ids:
        by_holder.setdefault(terms[token_id].owner, []).append(token_id)
    return [
        (holder, ids[start : start + batch_size])
        for holder, ids in by_holder.items()
        for start in range(0, len(ids), batch_size)
    ]


def plan_attestation(
    registry: ContractInstance,
    signer: str,
    token_ids: list[int],
    attested_at: int,
    batch_size: int = MAX_SIGN_BATCH,
) -> list[tuple[str, list[int]]]:
    """The batches (holder, ids) `signer` (a custodian) signs for `token_ids` seen at
    `attested_at`; every id is checked first."""
    _require_custodian(registry, signer)
    return plan_batches(token_ids, check_attestable(registry, token_ids, attested_at), batch_size)


def _signature(index: int, message: SignableMessage, signer: Signer) -> CustodianSignature:
    signature = sign(signer, message)
    if recover(message, signature) != signer.address:
        raise UserError(f"batch {index}: the signature does not recover to {signer.address}")
    return CustodianSignature(signer=signer.address, signature="0x" + signature.hex())


def sign_batches(
    attestor: str, attested_at: int, planned: list[tuple[str, list[int]]], signer: Signer
) -> SignaturesFile:
    """`signer`'s signature of each planned batch, as a signatures file."""
    chain_id = chain.chain_id
    batches = []
    for index, (holder, token_ids) in enumerate(planned, start=1):
        message = attestation_message(chain_id, attestor, token_ids, attested_at)
        batches.append(
            SignedBatch(
                holder=holder,
                token_ids=token_ids,
                digest="0x" + message_digest(message).hex(),
                signatures=[_signature(index, message, signer)],
            )
        )
    return SignaturesFile(
        chain_id=chain_id, attestor=attestor, attested_at=attested_at, batches=batches
    )


def add_signature(
    registry: ContractInstance,
    attestor: ContractInstance,
    signed: SignaturesFile,
    path: Path,
    signer: Signer,
    token_ids: list[int],
    attested_at: int | None,
) -> SignaturesFile:
    """`signed` with `signer`'s signature added to each batch, in signer order. The signer lists
    the ids it saw (`token_ids`, the same as the file's) and, if it gives one, the same time."""
    _require_binding(signed, attestor, path)
    _require_custodian(registry, signer.address)
    if sorted(token_ids) != sorted(signed.token_ids):
        missing = sorted(set(signed.token_ids) - set(token_ids))
        extra = sorted(set(token_ids) - set(signed.token_ids))
        which = (
            f"GPU {missing[0]} is signed in {path} but not in the ids file"
            if missing
            else (f"GPU {extra[0]} is in the ids file but not signed in {path}")
        )
        raise UserError(f"the ids differ from those signed in {path}: {which}")
    if attested_at is not None and attested_at != signed.attested_at:
        raise UserError(
            f"--at {format_moment(attested_at)} differs from the time signed in {path}, "
            f"{format_moment(signed.attested_at)}: leave --at out to sign that time"
        )
    if signer.address in signed.batches[0].signers:
        raise UserError(f"{path} is already signed by {signer.address}")
    holders = {i: batch.holder for batch in signed.batches for i in batch.token_ids}
    check_attestable(registry, signed.token_ids, signed.attested_at, holders)
    batches = []
    for index, batch in enumerate(signed.batches, start=1):
        signature = _signature(index, signed.message(batch), signer)
        signatures = sorted([*batch.signatures, signature], key=lambda s: int(s.signer, 16))
        batches.append(batch.model_copy(update={"signatures": signatures}))
    return signed.model_copy(update={"batches": batches})


# SUBMISSION #


def pending_batches(attestor: ContractInstance, signed: SignaturesFile) -> list[int]:
    """Indexes (from 1) of the batches whose digest the attestor has not seen: what an
    interrupted submission left to do."""
    return [
        index
        for index, batch in enumerate(signed.batches, start=1)
        if not attestor.submitted(batch.digest)
    ]


def check_submittable(
    registry: ContractInstance,
    attestor: ContractInstance,
    signed: SignaturesFile,
    path: Path,
    indexes: list[int],
) -> None:
    """Everything the attestor and the registry check of the batches `indexes`, before any is
    sent: the binding, each signer a custodian now, enough signatures for the holder, and the
    GPUs (held, not retired, attested before the file's time, the time not in the future)."""
    _require_binding(signed, attestor, path)
    for index in indexes:
        batch = signed.batches[index - 1]
        for signer in batch.signers:
            _require_custodian(registry, signer, f"{batch.label(index)}: the signer ")
        required = attestor.required(batch.holder)
        if len(batch.signatures) < required:
            raise UserError(
                f"{batch.label(index)}: {len(batch.signatures)} signature(s); attesting the GPUs "
                f"of {batch.holder} takes {required}: add them with `ape run custody sign --add`"
            )
    pending = [signed.batches[index - 1] for index in indexes]
    holders = {i: batch.holder for batch in pending for i in batch.token_ids}
    check_attestable(registry, list(holders), signed.attested_at, holders)


def submit_batches(
    attestor: ContractInstance,
    signed: SignaturesFile,
    indexes: Iterable[int],
    sender: AccountAPI,
) -> list[ReceiptAPI]:
    """Send the batches `indexes` (checked by `check_submittable`), one transaction each."""
    receipts = []
    for index in indexes:
        batch = signed.batches[index - 1]
        receipts.append(
            send(
                f"submitting {batch.label(index)}",
                attestor.submit,
                batch.holder,
                batch.token_ids,
                signed.attested_at,
                [s.signature for s in batch.signatures],
                sender=sender,
            )
        )
    return receipts


def attest_now(
    registry: ContractInstance,
    attestor: ContractInstance,
    custodian: AccountAPI,
    token_ids: list[int],
) -> tuple[SignaturesFile, list[ReceiptAPI]]:
    """One custodian's attestation of `token_ids` at the chain's time, signed and submitted by
    that custodian at once, where one signature is enough for every holder concerned. Returns
    the batches signed and their receipts."""
    attested_at = chain.pending_timestamp
    planned = plan_attestation(registry, custodian.address, token_ids, attested_at)
    for holder in dict(planned):
        if (required := attestor.required(holder)) > 1:
            raise UserError(
                f"attesting the GPUs of {holder} takes {required} custodians' signatures: use "
                "`ape run custody sign` (and `--add`), then `ape run custody submit`"
            )
    signed = sign_batches(attestor.address, attested_at, planned, custodian)
    return signed, submit_batches(attestor, signed, range(1, len(planned) + 1), custodian)
