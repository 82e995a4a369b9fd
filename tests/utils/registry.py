"""GpuRegistry mirrors for tests: statuses, roles, transition table, spec builder, references.

Everything here restates on-chain rules in Python so that tests compare the contract against an
independent model rather than against itself.
"""

from __future__ import annotations

import base64
import itertools
import json
from enum import IntEnum

from eth_utils import keccak


class GpuStatus(IntEnum):
    """IGpuRegistry.GpuStatus: Vyper flags are powers of two in declaration order."""

    ACTIVE = 1
    LEASED = 2
    OFFLINE = 4
    IMPAIRED = 8
    RETIRED = 16


def role(name: str) -> bytes:
    """A role id as the contract computes it: keccak256 of its name."""
    return keccak(text=name)


DEFAULT_ADMIN_ROLE = b"\x00" * 32
CUSTODIAN_ROLE = role("CUSTODIAN_ROLE")
APPRAISER_ROLE = role("APPRAISER_ROLE")
LEASE_MANAGER_ROLE = role("LEASE_MANAGER_ROLE")
COLLATERAL_ROLE = role("COLLATERAL_ROLE")
# Held by the CustodyAttestor only (the `attestor` fixture): records signed attestations.
ATTESTER_ROLE = role("ATTESTER_ROLE")

# Which role fixture (tests/conftest.py) holds each registry role in the `registry` fixture.
ROLE_HOLDER = {
    CUSTODIAN_ROLE: "custodian",
    APPRAISER_ROLE: "appraiser",
    LEASE_MANAGER_ROLE: "operator",  # stands in for a collateral vault
}

# Every role fixture of tests/conftest.py.
ROLE_FIXTURES = (
    "admin",
    "operator",
    "custodian",
    "appraiser",
    "compliance",
    "pauser",
    "lessee",
    "investor",
    "other_investor",
    "attacker",
)

MISSING_ROLE = "access_control: account is missing role"

MAX_BATCH = 50
MAX_ATTEST_BATCH = 1_024
MAX_UINT40 = 2**40 - 1
MAX_UINT128 = 2**128 - 1

# IGpuRegistry.vyi's transition table: (previous, current) -> role the caller needs.
TRANSITIONS: dict[tuple[GpuStatus, GpuStatus], bytes] = {
    (GpuStatus.ACTIVE, GpuStatus.LEASED): LEASE_MANAGER_ROLE,
    (GpuStatus.LEASED, GpuStatus.ACTIVE): LEASE_MANAGER_ROLE,
    (GpuStatus.ACTIVE, GpuStatus.OFFLINE): CUSTODIAN_ROLE,
    (GpuStatus.OFFLINE, GpuStatus.ACTIVE): CUSTODIAN_ROLE,
    (GpuStatus.ACTIVE, GpuStatus.IMPAIRED): APPRAISER_ROLE,
    (GpuStatus.LEASED, GpuStatus.IMPAIRED): APPRAISER_ROLE,
    (GpuStatus.OFFLINE, GpuStatus.IMPAIRED): APPRAISER_ROLE,
    (GpuStatus.IMPAIRED, GpuStatus.ACTIVE): APPRAISER_ROLE,
    (GpuStatus.ACTIVE, GpuStatus.RETIRED): CUSTODIAN_ROLE,
    (GpuStatus.OFFLINE, GpuStatus.RETIRED): CUSTODIAN_ROLE,
    (GpuStatus.IMPAIRED, GpuStatus.RETIRED): CUSTODIAN_ROLE,
}

# How to bring a fresh (ACTIVE) unit to each status: the allowed steps from ACTIVE.
PATH_FROM_ACTIVE: dict[GpuStatus, tuple[GpuStatus, ...]] = {
    GpuStatus.ACTIVE: (),
    GpuStatus.LEASED: (GpuStatus.LEASED,),
    GpuStatus.OFFLINE: (GpuStatus.OFFLINE,),
    GpuStatus.IMPAIRED: (GpuStatus.IMPAIRED,),
    GpuStatus.RETIRED: (GpuStatus.RETIRED,),
}

# The ways a GPU at ACTIVE reaches a status that writes it down at once (IMPAIRED or RETIRED),
# through each status it may pass first: what the registry's hooks must carry to a pool.
WRITE_DOWN_PATHS: list[tuple[GpuStatus, ...]] = [
    (GpuStatus.IMPAIRED,),
    (GpuStatus.RETIRED,),
    (GpuStatus.LEASED, GpuStatus.IMPAIRED),
    (GpuStatus.OFFLINE, GpuStatus.IMPAIRED),
    (GpuStatus.OFFLINE, GpuStatus.RETIRED),
]


def path_id(path: tuple[GpuStatus, ...]) -> str:
    """A pytest id for a status path: `OFFLINE->RETIRED`."""
    return "->".join(s.name for s in path)


DAY = 86_400
YEAR = 365 * DAY
USDC = 10**6

_serials = itertools.count(1)


def serial_hash(serial: str | None = None) -> bytes:
    """keccak256 of a serial number; a fresh one for every call without an argument."""
    return keccak(text=serial if serial is not None else f"SN-{next(_serials):08d}")


def make_spec(
    *,
    acquired_at: int,
    model: str = "H100 SXM",
    serial: bytes | None = None,
    data_centre: str = "FRA-1 Hall B",
    acquisition_cost: int = 30_000 * USDC,
    useful_life: int = 5 * YEAR,
    salvage_value: int = 3_000 * USDC,
) -> dict:
    """An IGpuRegistry.GpuSpec as ape encodes it; `serial` (a hash) is fresh unless given."""
    return {
        "model": model,
        "serial_hash": serial if serial is not None else serial_hash(),
        "data_centre": data_centre,
        "acquisition_cost": acquisition_cost,
        "acquired_at": acquired_at,
        "useful_life": useful_life,
        "salvage_value": salvage_value,
    }


def book_value(spec: dict, timestamp: int, status: int = GpuStatus.ACTIVE) -> int:
    """Reference straight-line book value: depreciation rounded up, 0 once RETIRED."""
    if status == GpuStatus.RETIRED:
        return 0
    cost, salvage = spec["acquisition_cost"], spec["salvage_value"]
    elapsed = timestamp - spec["acquired_at"]
    if elapsed <= 0:
        return cost
    if elapsed >= spec["useful_life"]:
        return salvage
    depreciation = -(-(cost - salvage) * elapsed // spec["useful_life"])
    return cost - depreciation


# GpuMetadata (the renderer of tokenURI): the document it builds, restated.
URI_PREFIX = "data:application/json;base64,"
URI_BOUND = 1_405
TOKEN_DESCRIPTION = (
    "One physical GPU (card or server) held by a custodian. "
    "Only the hash of its serial number is recorded on-chain."
)
MAX_UINT64 = 2**64 - 1


def make_gpu(
    *,
    model: str = "H100 SXM",
    serial: bytes | None = None,
    data_centre: str = "FRA-1 Hall B",
    acquisition_cost: int = 30_000 * USDC,
    acquired_at: int = 1_700_000_000,
    useful_life: int = 5 * YEAR,
    salvage_value: int = 3_000 * USDC,
    status: int = GpuStatus.ACTIVE,
    last_attested_at: int = 1_700_000_000,
) -> dict:
    """An IGpuRegistry.Gpu as ape encodes it (what GpuMetadata.token_uri takes)."""
    return {
        "model": model,
        "serial_hash": serial if serial is not None else serial_hash(),
        "data_centre": data_centre,
        "acquisition_cost": acquisition_cost,
        "acquired_at": acquired_at,
        "useful_life": useful_life,
        "salvage_value": salvage_value,
        "status": status,
        "last_attested_at": last_attested_at,
    }


def _field(gpu, name: str):
    """A field of a Gpu given as a dict (make_gpu) or as ape's decoded struct."""
    return gpu[name] if isinstance(gpu, dict) else getattr(gpu, name)


def token_document(token_id: int, gpu, book_value: int) -> dict:
    """The JSON document tokenURI gives for `gpu` (make_gpu's dict or a decoded Gpu), as a dict."""
    return {
        "name": f"GPU #{token_id}",
        "description": TOKEN_DESCRIPTION,
        "attributes": [
            {"trait_type": "model", "value": _field(gpu, "model")},
            {"trait_type": "serial_hash", "value": "0x" + bytes(_field(gpu, "serial_hash")).hex()},
            {"trait_type": "data_centre", "value": _field(gpu, "data_centre")},
            {"trait_type": "acquisition_cost", "value": _field(gpu, "acquisition_cost")},
            {"trait_type": "acquired_at", "value": _field(gpu, "acquired_at")},
            {"trait_type": "useful_life", "value": _field(gpu, "useful_life")},
            {"trait_type": "salvage_value", "value": _field(gpu, "salvage_value")},
            {"trait_type": "book_value", "value": book_value},
            {"trait_type": "status", "value": GpuStatus(_field(gpu, "status")).name},
            {"trait_type": "last_attested_at", "value": _field(gpu, "last_attested_at")},
        ],
    }


def decode_token_uri(uri: str) -> dict:
    """The JSON document of a tokenURI data URI; asserts the prefix and canonical Base64 (padding
    included: re-encoding the bytes gives back exactly the contract's text)."""
    assert uri.startswith(URI_PREFIX), uri[:40]
    encoded = uri[len(URI_PREFIX) :]
    raw = base64.b64decode(encoded, validate=True)
    assert base64.b64encode(raw).decode() == encoded
    return json.loads(raw.decode("ascii"))


def token_json(token_id: int, gpu, book_value: int) -> bytes:
    """The exact bytes of the JSON tokenURI encodes: `token_document` without any whitespace."""
    return json.dumps(token_document(token_id, gpu, book_value), separators=(",", ":")).encode()
