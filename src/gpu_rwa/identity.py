"""Investor identities on the shared IdentityRegistry: verify and revoke in batches, and a table.

The compliance officer does KYC off-chain; these calls record the outcome. Addresses, expiry and
jurisdiction are validated first, and a revocation of an address that is not verified is refused
before anything is sent (the contract would revert the whole batch).
"""

from datetime import UTC, datetime

from ape import chain
from ape.api import AccountAPI, ReceiptAPI
from pydantic import Field, field_validator
from rich.table import Table

from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import Pool
from gpu_rwa.types import SECONDS_PER_DAY, ZERO_ADDRESS, Address

# The registry's bound on one verify_batch / revoke_batch call.
MAX_BATCH = 256
# A KYC check older than ten years is not a check.
MAX_DAYS = 3_650


def _distinct(accounts: list[str]) -> list[str]:
    seen = set()
    for account in accounts:
        if account == ZERO_ADDRESS:
            raise ValueError("the zero address cannot be verified")
        if account in seen:
            raise ValueError(f"{account} is listed twice")
        seen.add(account)
    return accounts


class Accounts(StrictModel):
    accounts: list[Address] = Field(min_length=1, alias="ADDRESS")

    _check_accounts = field_validator("accounts")(_distinct)


class Verification(Accounts):
    days: int = Field(ge=1, le=MAX_DAYS, alias="--days")
    # ISO 3166-1 numeric: three digits, 0 is not a country.
    jurisdiction: int = Field(ge=1, le=999, alias="--jurisdiction")


def _batches(accounts: list[str]):
    for start in range(0, len(accounts), MAX_BATCH):
        yield accounts[start : start + MAX_BATCH]


def verify(pool: Pool, sender: AccountAPI, request: Verification) -> tuple[int, list[ReceiptAPI]]:
    """Verify (or renew) every account until now + days; returns the expiry and the receipts."""
    require_role(pool.identity, "COMPLIANCE_ROLE", sender.address, "IdentityRegistry")
    expires_at = chain.pending_timestamp + request.days * SECONDS_PER_DAY
    receipts = [
        send(
            f"verifying {len(batch)} account(s)",
            pool.identity.verify_batch,
            batch,
            expires_at,
            request.jurisdiction,
            sender=sender,
        )
        for batch in _batches(request.accounts)
    ]
    return expires_at, receipts


def revoke(pool: Pool, sender: AccountAPI, request: Accounts) -> list[ReceiptAPI]:
    require_role(pool.identity, "COMPLIANCE_ROLE", sender.address, "IdentityRegistry")
    for account in request.accounts:
        if not pool.identity.is_verified(account):
            raise UserError(f"{account} is not verified: nothing to revoke")
    return [
        send(
            f"revoking {len(batch)} account(s)",
            pool.identity.revoke_batch,
            batch,
            sender=sender,
        )
        for batch in _batches(request.accounts)
    ]


def identity_table(pool: Pool, accounts: list[str], limit: int | None = None) -> Table:
    """The identity of each account (the first `limit` of them, if given)."""
    shown = accounts if limit is None else accounts[:limit]
    table = Table(title=f"IdentityRegistry {pool.identity.address}")
    for column in ("address", "verified", "expires (UTC)", "jurisdiction"):
        table.add_column(column)
    if len(shown) < len(accounts):
        table.caption = f"first {len(shown)} of {len(accounts)}; `ape run kyc status` for others"
    for account in shown:
        record = pool.identity.identity(account)
        expires = (
            f"{datetime.fromtimestamp(record.expires_at, UTC):%Y-%m-%d %H:%M}"
            if record.expires_at
            else "-"
        )
        table.add_row(
            account,
            "yes" if pool.identity.is_verified(account) else "no",
            expires,
            str(record.jurisdiction) if record.jurisdiction else "-",
        )
    return table
