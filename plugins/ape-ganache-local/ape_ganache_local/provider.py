"""A test provider for a Ganache node started outside ape (see the Makefile's test-ganache)."""

import ast
import re
import time

from ape.api import PluginConfig, TestProviderAPI
from ape.exceptions import (
    ContractLogicError,
    ProviderError,
    TransactionError,
    VirtualMachineError,
)
from ape_ethereum.provider import Web3Provider
from pydantic_settings import SettingsConfigDict
from web3 import HTTPProvider, Web3

# Ganache reports a revert as a plain error message rather than as `execution reverted` data.
_GANACHE_REVERT = re.compile(r"^VM Exception while processing transaction: revert ?(.*)$", re.S)


def _node_message(exception: Exception, error: VirtualMachineError) -> str:
    """The node's own error message. web3 raises a Web3RPCError, and ape's errors made from it
    carry, as their text, the whole error object (message, stack, data) whose message alone
    holds the reason."""
    response = getattr(exception, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        return str(response["error"].get("message", ""))
    text = str(error.message if hasattr(error, "message") else error)
    for candidate in (*exception.args[:1], text):
        if isinstance(candidate, str) and candidate.startswith("{"):
            try:
                candidate = ast.literal_eval(candidate)
            except (ValueError, SyntaxError):
                continue
        if isinstance(candidate, dict):
            return str(candidate.get("message", ""))
    return text


class GanacheConfig(PluginConfig):
    host: str = "http://127.0.0.1:8555"
    """Where the Ganache node listens; APE_GANACHE_LOCAL_HOST overrides it."""

    model_config = SettingsConfigDict(extra="allow", env_prefix="APE_GANACHE_LOCAL_")


class GanacheProvider(Web3Provider, TestProviderAPI):
    """Connects to a running Ganache node; it does not start or stop the node."""

    @property
    def uri(self) -> str:
        return self.settings.host

    @property
    def http_uri(self) -> str:
        return self.uri

    @property
    def is_connected(self) -> bool:
        return self._web3 is not None and self._web3.is_connected()

    def connect(self):
        web3 = Web3(HTTPProvider(self.uri, request_kwargs={"timeout": 30}))
        if not web3.is_connected():
            raise ProviderError(f"No Ganache node answers at {self.uri}; start one first.")
        if "ganache" not in web3.client_version.lower():
            raise ProviderError(f"The node at {self.uri} is not Ganache ({web3.client_version}).")
        self._web3 = web3

    def disconnect(self):
        self._web3 = None

    def snapshot(self) -> str:
        return self.make_request("evm_snapshot", [])

    def restore(self, snapshot_id):
        snapshot = hex(snapshot_id) if isinstance(snapshot_id, int) else snapshot_id
        if not self.make_request("evm_revert", [snapshot]):
            raise ProviderError(f"Ganache could not revert to snapshot {snapshot}.")

    def set_timestamp(self, new_timestamp: int):
        # evm_setTime takes milliseconds and applies to the blocks mined after it.
        self.make_request("evm_setTime", [new_timestamp * 1000])

    def get_block(self, block_id):
        block = super().get_block(block_id)
        if block_id != "pending":
            return block
        # Ganache answers "pending" with the head block, whose time lags any `evm_setTime` until a
        # block is mined; the next block's time is the wall clock plus the node's adjustment
        # (which `evm_increaseTime` by 0 returns, snapshots and reverts included).
        adjustment = int(self.make_request("evm_increaseTime", [0]))
        upcoming = int(time.time()) + adjustment
        return block.model_copy(update={"timestamp": max(block.timestamp, upcoming)})

    @property
    def auto_mine(self) -> bool:
        # Started without --miner.blockTime, Ganache mines one block per transaction.
        return True

    @auto_mine.setter
    def auto_mine(self, value: bool):
        raise NotImplementedError("Ganache is started with instant mining; it cannot be switched.")

    def mine(self, num_blocks: int = 1):
        for _ in range(num_blocks):
            self.make_request("evm_mine", [])

    def get_transaction_trace(self, transaction_hash: str, **kwargs):
        # Ape traces every transaction to print contract debug logs; Ganache answers with full
        # struct logs, which take ape about a minute to parse for a 1M-gas transaction. Without
        # traces ape skips the debug logs and nothing else changes.
        raise NotImplementedError("Ganache traces are not used")

    def get_virtual_machine_error(self, exception: Exception, **kwargs) -> VirtualMachineError:
        error = super().get_virtual_machine_error(exception, **kwargs)
        # The node's message decides, even where ape already made a ContractLogicError of it
        # (with the whole error object as its "reason" when the revert carries none).
        if match := _GANACHE_REVERT.search(_node_message(exception, error)):
            # No reason: the text ape gives such a revert on Anvil too (not the error object).
            reason = match.group(1).rstrip(".") or TransactionError.DEFAULT_MESSAGE
            return ContractLogicError(
                revert_message=reason,
                txn=kwargs.get("txn"),
                base_err=exception,
                set_ape_traceback=kwargs.get("set_ape_traceback", True),
            )
        return error
