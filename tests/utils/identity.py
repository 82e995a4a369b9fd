"""Compliance officers' signed verifications in tests (self-onboarding): signed with the test
keys through `gpu_rwa.onboarding` (the digest computed in Python, no call to the registry's
`digest` view; a unit test proves them equal)."""

from __future__ import annotations

from ape import accounts, chain
from ape.api import AccountAPI

from gpu_rwa.chain import LOCAL_ROLE_ACCOUNTS
from gpu_rwa.onboarding import verification_message
from gpu_rwa.signing import sign
from tests.utils.vault import DAY, JURISDICTION, YEAR

# The registry's refusals of a signed verification.
EXPIRED = "identity: signature expired"
STALE_NONCE = "identity: nonce not current"
INVALID = "identity: invalid signature"
MALLEABLE = "identity: malleable signature"
NOT_BY_SIGNER = "identity: signature not by signer"
NOT_OFFICER = "identity: signer is not a compliance officer"


def compliance_account() -> AccountAPI:
    """The `compliance` fixture's test account (its key signs by default)."""
    return accounts.test_accounts[LOCAL_ROLE_ACCOUNTS["compliance"]]


def onboard_args(
    identity,
    account: str,
    *,
    jurisdiction: int = JURISDICTION,
    expires_at: int | None = None,
    nonce: int | None = None,
    deadline: int | None = None,
    signer: AccountAPI | None = None,
    chain_id: int | None = None,
    verifying_contract: str | None = None,
) -> tuple:
    """The arguments of `identity.onboard`: `signer` (the compliance officer by default) signs
    the verification of `account` (a year from now under JURISDICTION, the account's current
    nonce, usable for a day) in the registry's domain, or in the one of `chain_id` and
    `verifying_contract` when given."""
    signer = signer or compliance_account()
    now = chain.pending_timestamp
    expires_at = now + YEAR if expires_at is None else expires_at
    nonce = identity.nonces(account) if nonce is None else nonce
    deadline = now + DAY if deadline is None else deadline
    message = verification_message(
        chain.chain_id if chain_id is None else chain_id,
        verifying_contract or identity.address,
        account,
        jurisdiction,
        expires_at,
        nonce,
        deadline,
    )
    signature = sign(signer, message)
    return (account, jurisdiction, expires_at, nonce, deadline, signer.address, signature)
