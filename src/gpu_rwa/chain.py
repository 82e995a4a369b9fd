"""Chain helpers shared by the scripts: who sends, on which network, and readable failures."""

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ape import accounts, chain, networks
from ape.api import AccountAPI, ProviderAPI, ReceiptAPI
from ape.contracts import ContractInstance
from ape.exceptions import AccountsError, ApeException, ContractLogicError
from ape_foundry import FoundryProvider
from eth_utils import to_hex

from gpu_rwa.errors import UserError
from gpu_rwa.manifest import Manifest

# On local chains each actor of ../shared/DOMAIN.md is one of the mnemonic's test accounts, the
# same mapping the test suite's role fixtures use.
LOCAL_ROLE_ACCOUNTS = {
    "admin": 0,
    "operator": 1,
    "custodian": 2,
    "appraiser": 3,
    "compliance": 4,
    "pauser": 5,
    "lessee": 6,
    "investor": 7,
}


def network_name() -> str:
    """The network part of the connected `ecosystem:network:provider` choice, e.g. `local`."""
    return networks.provider.network.name


def is_local() -> bool:
    return network_name() == "local"


def local_account(role: str) -> AccountAPI:
    """The test account that plays `role` on a local chain."""
    return accounts.test_accounts[LOCAL_ROLE_ACCOUNTS[role]]


def require_role(contract: ContractInstance, role: str, account: str, where: str) -> None:
    """UserError unless `account` holds `contract`'s `role` (named as its public constant)."""
    if not contract.hasRole(getattr(contract, role)(), account):
        raise UserError(f"{account} does not hold {role} on the {where}")


def resolve_sender(alias: str | None, role: str) -> AccountAPI:
    """`TEST::n` or an ape keystore alias; on a local chain the role's test account by default."""
    if alias is None:
        if not is_local():
            raise UserError(f"--account is required on {network_name()} (an ape account alias)")
        return local_account(role)
    if alias.upper().startswith("TEST::"):
        index = alias[len("TEST::") :]
        if not index.isdigit() or int(index) >= len(accounts.test_accounts):
            raise UserError(f"--account {alias}: no such test account")
        return accounts.test_accounts[int(index)]
    try:
        return accounts.load(alias)
    except (AccountsError, IndexError, KeyError) as exc:
        raise UserError(f"--account {alias}: no ape account with that alias") from exc


def resolve_account_of(alias: str | None, address: str, what: str) -> AccountAPI:
    """The sender that must be `address` (e.g. a GPU's owner): `--account` if given, else, on a
    local chain, the test account with that address."""
    if alias is not None:
        return resolve_sender(alias, "admin")
    if not is_local():
        raise UserError(f"--account is required on {network_name()} (the ape alias of {what})")
    for account in accounts.test_accounts:
        if account.address == address:
            return account
    raise UserError(f"{what} {address} is not a test account of this chain: pass --account")


def send(label: str, method: Callable[..., ReceiptAPI], *args: Any, **kwargs: Any) -> ReceiptAPI:
    """Send a transaction; a revert or node error becomes one line naming what was attempted."""
    try:
        return method(*args, **kwargs)
    except ContractLogicError as exc:
        raise UserError(f"{label} reverted: {exc.message}") from exc
    except ApeException as exc:
        raise UserError(f"{label} failed: {exc}") from exc


def has_code(address: str) -> bool:
    return len(chain.provider.get_code(address)) > 0


def genesis_hash() -> str:
    """Block 0's hash on the connected chain: what tells it from another chain of the same id."""
    # web3's block, not ape's: a third of the time, and every script asks once.
    return to_hex(chain.provider.web3.eth.get_block(0)["hash"])


def node_address(uri: str) -> str:
    """An RPC URI as a manifest records it: scheme, host and port (no path, no user part)."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def connected_node() -> str | None:
    """The connected node's address (None for a provider without an HTTP endpoint)."""
    uri = getattr(networks.provider, "http_uri", None)
    return None if uri is None else node_address(uri)


def local_node_uri(provider: ProviderAPI) -> str | None:
    """Where a provider of the local network connects, asked before it does (None on other
    networks or without an HTTP endpoint). ape-foundry reads APE_FOUNDRY_HOST only as it
    connects: until then its `uri` is ape-config.yaml's host."""
    if provider.network.name != "local":
        return None
    if isinstance(provider, FoundryProvider) and (host := os.environ.get("APE_FOUNDRY_HOST")):
        return host
    return getattr(provider, "http_uri", None)


def starts_own_node(provider: ProviderAPI, uri: str) -> bool:
    """Whether connecting to `uri` would start an Anvil there if none answers (ape-foundry does
    on a local address): a chain that lives for one command."""
    return (
        isinstance(provider, FoundryProvider)
        and provider.settings.manage_process
        and ("127.0.0.1" in uri or "localhost" in uri)
    )


def chain_differences(manifest: Manifest) -> list[str]:
    """What tells `manifest`'s chain from the connected one, in words (empty: it is this chain):
    the chain id, block 0's hash (manifests written before it was recorded have none), else no
    code at one of its addresses."""
    found = manifest.differences(chain.chain_id, genesis_hash())
    if not found:
        missing = [
            name for name, record in manifest.contracts.items() if not has_code(record.address)
        ]
        if missing:
            found.append(f"no code at the address of {', '.join(missing)}")
    return found
