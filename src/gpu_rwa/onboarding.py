"""Self-onboarding: a compliance officer signs an investor's verification off chain; the investor
submits it to the IdentityRegistry and pays the gas.

The officer signs the EIP-712 struct `Verification(address account,uint16 jurisdiction,uint64
expiresAt,uint256 nonce,uint256 deadline)` in the registry's domain ("GPU RWA Identity", "1",
chain id, registry) for the account's current nonce. `sign_onboarding` checks what the chain can
answer and returns the onboarding file; `check_onboarding` checks such a file against the chain
as it is now and `submit_onboarding` sends it. Every check `IdentityRegistry.onboard` makes is made
here first, so a bad input is one line and nothing is written or sent.

The digest is computed here (the unit tests prove it equal to the registry's `digest` view and to
eth_account's own EIP-712 encoding); a file's signature is checked to recover to its signer when
it is written and when it is read, so a field changed by hand is refused on load.
"""

from pathlib import Path
from typing import Annotated

from ape import chain
from ape.api import AccountAPI, ReceiptAPI
from ape.contracts import ContractInstance
from ape.exceptions import ApeException
from eth_abi import encode as abi_encode
from eth_account.messages import SignableMessage
from eth_utils import keccak
from pydantic import BeforeValidator, Field, PositiveInt, field_validator, model_validator

from gpu_rwa import signing
from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.identity import MAX_DAYS
from gpu_rwa.models import StrictModel, load_json_model, write_json_model
from gpu_rwa.signing import HexSignature, Signer, recover, sign
from gpu_rwa.types import SECONDS_PER_DAY, ZERO_ADDRESS, Address, Uint, format_moment, parse_time

DOMAIN_NAME = "GPU RWA Identity"
DOMAIN_VERSION = "1"
VERIFICATION_TYPE = (
    "Verification(address account,uint16 jurisdiction,uint64 expiresAt,uint256 nonce,"
    "uint256 deadline)"
)
# Where `compliance onboard-sign` finds the officer's key when no --account is given.
KEY_ENV = "GPU_RWA_COMPLIANCE_KEY"
# How long a signature stays usable by default, and at most: a signed verification in an
# investor's hands should not stay live for weeks (`invalidate` voids it earlier).
DEFAULT_VALID_HOURS = 72
MAX_VALID_HOURS = 30 * 24

_VERIFICATION_TYPEHASH = keccak(text=VERIFICATION_TYPE)
_MAX_EXPIRY = 2**64 - 1


# EIP-712 #


def domain_separator(chain_id: int, registry: str) -> bytes:
    """The IdentityRegistry's EIP-712 domain separator (its `DOMAIN_SEPARATOR`)."""
    return signing.domain_separator(DOMAIN_NAME, DOMAIN_VERSION, chain_id, registry)


def verification_message(
    chain_id: int,
    verifying_contract: str,
    account: str,
    jurisdiction: int,
    expires_at: int,
    nonce: int,
    deadline: int,
) -> SignableMessage:
    """`Verification(account, jurisdiction, expiresAt, nonce, deadline)` as an EIP-712 signable
    message (version 0x01) for the IdentityRegistry `verifying_contract`."""
    struct_hash = keccak(
        abi_encode(
            ["bytes32", "address", "uint16", "uint64", "uint256", "uint256"],
            [_VERIFICATION_TYPEHASH, account, jurisdiction, expires_at, nonce, deadline],
        )
    )
    return SignableMessage(b"\x01", domain_separator(chain_id, verifying_contract), struct_hash)


# FILES AND INPUT #


def _not_zero(account: str) -> str:
    if account == ZERO_ADDRESS:
        raise ValueError("the zero address cannot be verified")
    return account


# ISO 3166-1 numeric: three digits, 0 is not a country.
Jurisdiction = Annotated[int, Field(ge=1, le=999)]
Expiry = Annotated[int, BeforeValidator(parse_time), Field(gt=0, le=_MAX_EXPIRY)]


class OnboardingFile(StrictModel):
    """What `compliance onboard-sign` writes and `onboard-submit` sends: the signed fields, the
    domain they are bound to (chain id, registry), the signer and its signature."""

    chain_id: PositiveInt
    verifying_contract: Address
    account: Address
    jurisdiction: Jurisdiction
    expires_at: Annotated[int, Field(gt=0, le=_MAX_EXPIRY)]
    nonce: Uint
    deadline: Annotated[Uint, Field(gt=0)]
    signer: Address
    signature: HexSignature

    _check_account = field_validator("account")(_not_zero)

    @model_validator(mode="after")
    def _signed_by_signer(self) -> "OnboardingFile":
        try:
            recovered = recover(self.message(), bytes.fromhex(self.signature[2:]))
        except ValueError as exc:
            raise ValueError(f"signature: {exc}") from exc
        if recovered != self.signer:
            raise ValueError(
                f"the signature recovers to {recovered}, not the signer {self.signer} (a field "
                "was changed after signing?)"
            )
        return self

    def message(self) -> SignableMessage:
        return verification_message(
            self.chain_id,
            self.verifying_contract,
            self.account,
            self.jurisdiction,
            self.expires_at,
            self.nonce,
            self.deadline,
        )


def load_onboarding(path: Path) -> OnboardingFile:
    return load_json_model(OnboardingFile, path)


def write_onboarding(onboarding: OnboardingFile, path: Path) -> None:
    write_json_model(onboarding, path)


def default_out(account: str) -> Path:
    """Where `onboard-sign` writes without --out: onboard-<account>.json."""
    return Path(f"onboard-{account}.json")


class OnboardSignRequest(StrictModel):
    """`compliance onboard-sign ADDRESS --jurisdiction N --expires WHEN [--valid-hours H]`."""

    account: Address = Field(alias="ADDRESS")
    jurisdiction: Jurisdiction = Field(alias="--jurisdiction")
    expires_at: Expiry = Field(alias="--expires")
    valid_hours: int = Field(ge=1, le=MAX_VALID_HOURS, alias="--valid-hours")

    _check_account = field_validator("account")(_not_zero)


def resolve_signer(alias: str | None) -> Signer:
    """`--account` if given; else the key in $GPU_RWA_COMPLIANCE_KEY; else, on a local chain,
    the compliance officer's test account."""
    return signing.resolve_signer(alias, "compliance", KEY_ENV)


# CHECKS #


def require_onboarding(identity: ContractInstance) -> None:
    """The registry takes signed verifications in the domain computed here (this chain, this
    contract): one deployed before self-onboarding existed has no DOMAIN_SEPARATOR."""
    try:
        separator = bytes(identity.DOMAIN_SEPARATOR())
    except (ApeException, ValueError) as exc:
        raise UserError(
            f"the IdentityRegistry {identity.address} takes no signed verifications (deployed "
            "before self-onboarding): verify with `ape run kyc add`"
        ) from exc
    if separator != domain_separator(chain.chain_id, identity.address):
        raise UserError(
            f"the IdentityRegistry {identity.address} signs in another EIP-712 domain than "
            f'("{DOMAIN_NAME}", "{DOMAIN_VERSION}", chain id {chain.chain_id}, its address)'
        )


def _require_change(
    identity: ContractInstance, account: str, jurisdiction: int, expires_at: int, doing: str
) -> None:
    """Refuses a verification the account already has (verified now, same expiry and
    jurisdiction): nothing would change but the nonce."""
    record = identity.identity(account)
    if (record.expires_at, record.jurisdiction) == (expires_at, jurisdiction) and (
        identity.is_verified(account)
    ):
        raise UserError(
            f"{account} is already verified until {format_moment(expires_at)} under "
            f"jurisdiction {jurisdiction}: nothing to {doing}"
        )


def sign_onboarding(
    identity: ContractInstance, signer: Signer, request: OnboardSignRequest
) -> OnboardingFile:
    """`signer`'s (a compliance officer's) signed verification of `request.account` at its
    current nonce, usable for `request.valid_hours` from the chain's time."""
    require_onboarding(identity)
    require_role(identity, "COMPLIANCE_ROLE", signer.address, "IdentityRegistry")
    now = chain.pending_timestamp
    deadline = now + request.valid_hours * 3600
    expires_at = request.expires_at
    if expires_at <= now:
        raise UserError(
            f"--expires: {format_moment(expires_at)} is not after the chain's time "
            f"{format_moment(now)}"
        )
    if expires_at <= deadline:
        raise UserError(
            f"--expires: {format_moment(expires_at)} is not after the signature's deadline "
            f"{format_moment(deadline)} (now + --valid-hours): give a later --expires or fewer "
            "--valid-hours"
        )
    if expires_at > now + MAX_DAYS * SECONDS_PER_DAY:
        raise UserError(
            f"--expires: {format_moment(expires_at)} is more than {MAX_DAYS:,} days from now"
        )
    _require_change(identity, request.account, request.jurisdiction, expires_at, "sign")
    fields = dict(
        chain_id=chain.chain_id,
        verifying_contract=identity.address,
        account=request.account,
        jurisdiction=request.jurisdiction,
        expires_at=expires_at,
        nonce=identity.nonces(request.account),
        deadline=deadline,
    )
    message = verification_message(**fields)
    signature = sign(signer, message)
    if recover(message, signature) != signer.address:
        raise UserError(f"the signature does not recover to {signer.address}; nothing written")
    return OnboardingFile(**fields, signer=signer.address, signature="0x" + signature.hex())


def check_onboarding(identity: ContractInstance, onboarding: OnboardingFile, path: Path) -> None:
    """Everything `IdentityRegistry.onboard` checks of the file, against the chain now: the
    domain (this chain, this deployment's registry), the deadline, the expiry, a verification
    the account does not already have, the nonce current, the signer a compliance officer now."""
    if onboarding.chain_id != chain.chain_id:
        raise UserError(
            f"{path} is signed for chain id {onboarding.chain_id}, not this chain "
            f"({chain.chain_id})"
        )
    if onboarding.verifying_contract != identity.address:
        raise UserError(
            f"{path} is signed for the IdentityRegistry {onboarding.verifying_contract}, not "
            f"this deployment's ({identity.address})"
        )
    require_onboarding(identity)
    now = chain.pending_timestamp
    if onboarding.deadline < now:
        raise UserError(
            f"{path}: the signature expired at {format_moment(onboarding.deadline)}: ask the "
            "compliance officer for a new one"
        )
    if onboarding.expires_at <= now:
        raise UserError(
            f"{path}: the verification lapsed at {format_moment(onboarding.expires_at)}: ask "
            "the compliance officer for a new one"
        )
    account = onboarding.account
    _require_change(identity, account, onboarding.jurisdiction, onboarding.expires_at, "submit")
    current = identity.nonces(account)
    if onboarding.nonce < current:
        raise UserError(
            f"{path}: nonce {onboarding.nonce} is used up (the account's is {current}: it was "
            "onboarded, or the compliance officer verified, revoked or invalidated it since "
            "signing): ask for a new signature"
        )
    if onboarding.nonce > current:
        raise UserError(
            f"{path}: nonce {onboarding.nonce} is ahead of the account's ({current}): ask for a "
            "new signature"
        )
    if not identity.hasRole(identity.COMPLIANCE_ROLE(), onboarding.signer):
        raise UserError(
            f"{path}: the signer {onboarding.signer} does not hold COMPLIANCE_ROLE on the "
            "IdentityRegistry now: ask a compliance officer for a new signature"
        )


def submit_onboarding(
    identity: ContractInstance, onboarding: OnboardingFile, sender: AccountAPI
) -> ReceiptAPI:
    """Send the onboarding (checked by `check_onboarding`); `sender` pays the gas."""
    return send(
        f"onboarding {onboarding.account}",
        identity.onboard,
        onboarding.account,
        onboarding.jurisdiction,
        onboarding.expires_at,
        onboarding.nonce,
        onboarding.deadline,
        onboarding.signer,
        onboarding.signature,
        sender=sender,
    )
