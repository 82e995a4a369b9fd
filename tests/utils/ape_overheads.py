"""What ape and web3 do on every call that this suite never uses, switched off for the session.

On Anvil each is a JSON-RPC round trip or more, and together they were most of the suite's time:
- a reverting call is traced step by step to build a source traceback and print its call tree
  (about half a second a revert); the tests match exact revert reasons, which Anvil returns
  without a trace (the Ganache provider never traces either);
- every transaction to a contract is traced to print the contract's debug logs (no contract here
  prints);
- every call and transaction first fetches the target's code to check it is a contract; a
  contract found once stays one for the session (nothing here self-destructs);
- after a transaction's receipt, ape polls the sender's nonce until it has moved: on a node that
  mines on arrival it has, by the time there is a receipt;
- web3 posts every request through `requests` (~1.2 ms of Python a round trip, where Anvil answers
  in ~0.1 ms): a kept-alive `http.client` connection does the same post in ~0.25 ms. Anything but a
  200 answer, or a broken connection, goes through `requests` as before, so errors (a node that is
  down) read exactly as they did;
- a reverting call (an `eth_call`) is traced again with `debug_traceCall` to map the revert onto
  the contract's source (0.3 to 1.5 s a revert): only `ape.reverts(dev_message=...)` reads that,
  and no test does;
- every call and transaction re-reads, through pydantic-settings models built afresh each time,
  configuration that is fixed for the session (the transaction type, required confirmations, the
  base fee multiplier, the acceptance timeout): ~5 ms of Python each; read once here;
- every call fetches the head block for its gas limit, which an `eth_call` then drops (ape sends
  calls without gas): a call goes without it;
- a nonce goes through web3's request and result formatters (~3 ms); one request here;
- Anvil mines an automined transaction just after it answers `eth_sendRawTransaction`, so the
  receipt is not always there yet when ape asks: web3 then waits 100 ms before asking again
  (on a busy machine, for one transaction in five: a minute and a half of the suite); it asks
  again after 5 ms;
- the block height (ape reads it at every snapshot revert) decodes the whole head block; the
  block number is one request;
- ape checks that an address is checksummed (a keccak) wherever it converts one, hundreds of
  times a test for the same few addresses: each string is checked once;
- before each test ape asks the node, for every session fixture the test uses, whether it
  automines, then finds it does not know yet whether the fixture changed the chain (it knows only
  once the fixture is torn down): it answers that without asking;
- the cyclic garbage collector walks everything ape has loaded (~400,000 objects) at each full
  collection: what exists when the session starts is frozen out of its walks.
"""

import functools
import gc
import http.client
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import ape.managers.converters as converters
import ape_ethereum.provider as ethereum_provider
from ape.api.networks import NetworkAPI
from ape.api.transactions import ReceiptAPI
from ape.contracts.base import ContractCall, ContractMethodHandler
from ape.managers.chain import BlockContainer
from ape.pytest.fixtures import FixtureManager
from ape_ethereum.ecosystem import Ethereum
from ape_foundry.provider import FoundryProvider
from web3._utils.http_session_manager import HTTPSessionManager
from web3.eth import Eth

_connections = threading.local()
# Seconds between two requests for a receipt not there yet (web3: 0.1).
RECEIPT_POLL = 0.005


def _post_kept_alive(endpoint_uri: str, data: bytes | str, timeout: float) -> bytes | None:
    """POST `data` on this thread's kept-alive connection to `endpoint_uri`; the body of a 200
    answer, or None for anything else (the caller then posts through `requests`)."""
    url = urlsplit(str(endpoint_uri))
    if url.scheme != "http":
        return None
    pool = _connections.__dict__.setdefault("by_host", {})
    body = data.encode() if isinstance(data, str) else data
    for _ in range(2):  # once more on a fresh connection if the kept one was closed
        connection = pool.get(url.netloc)
        if connection is None:
            connection = pool[url.netloc] = http.client.HTTPConnection(url.netloc, timeout=timeout)
        try:
            connection.request("POST", url.path or "/", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            pool.pop(url.netloc, None)
            continue
        return content if response.status == 200 else None
    return None


def _read_once(cls: type, name: str, key: Callable) -> Callable[[], None]:
    """Make property `name` of `cls` compute once per `key(self)`; returns what restores it."""
    read = cls.__dict__[name]
    values: dict = {}

    def read_once(self):
        k = key(self)
        if k not in values:
            values[k] = read.fget(self)
        return values[k]

    setattr(cls, name, property(read_once))
    return lambda: setattr(cls, name, read)


def _network_key(network: NetworkAPI) -> tuple[str, str]:
    return network.ecosystem.name, network.name


def _ecosystem_key(ecosystem: Ethereum) -> tuple[str, str | None]:
    provider = ecosystem.network_manager.active_provider
    return ecosystem.name, provider.network.name if provider else None


def switch_off() -> Callable[[], None]:
    """Switch them off; returns the function that switches them back on."""
    handle_revert = FoundryProvider._handle_execution_reverted
    post_send = ethereum_provider._post_send_transaction
    validate = ContractMethodHandler._validate_is_contract
    await_nonce = ReceiptAPI._await_sender_nonce_increment
    post = HTTPSessionManager.make_post_request
    source_traceback = ethereum_provider._LazyCallTrace.__dict__["source_traceback"]
    serialize_call = ContractCall.serialize_transaction
    get_nonce = ethereum_provider.Web3Provider.get_nonce
    height = BlockContainer.height
    is_stateful = FixtureManager.is_stateful
    wait_for_receipt = Eth.wait_for_transaction_receipt
    is_checksum_address = converters.is_checksum_address
    contracts: set[str] = set()
    checksummed = functools.lru_cache(maxsize=4096)(is_checksum_address)

    def checksummed_once(value) -> bool:
        return checksummed(value) if isinstance(value, str) else is_checksum_address(value)

    def revert_without_trace(self, exception, revert_message=None, **kwargs):
        kwargs.pop("trace", None)
        kwargs.pop("txn", None)
        return handle_revert(self, exception, revert_message=revert_message, **kwargs)

    def known_contract(self):
        address = self.contract.address
        if address not in contracts:
            validate(self)
            contracts.add(address)

    def call_without_gas(self, *args, **kwargs):
        kwargs.setdefault("gas", 0)  # not sent: ape drops a call's gas (`_prepare_call`)
        return serialize_call(self, *args, **kwargs)

    def nonce_in_one_request(self, address, block_id=None):
        if block_id is not None:
            return get_nonce(self, address, block_id)
        return int(self.make_request("eth_getTransactionCount", [address, "latest"]), 16)

    def block_number(self):
        return int(self.provider.make_request("eth_blockNumber", []), 16)

    def stateful_once_known(self, name):
        if name not in self._stateful_fixtures_cache:
            info = self._fixture_name_to_info.get(name) or {}
            if info.get("setup_block") is None or info.get("teardown_block") is None:
                return None  # what ape answers until it has both blocks, automine or not
        return is_stateful(self, name)

    def wait_polling_often(self, transaction_hash, timeout=120, poll_latency=RECEIPT_POLL):
        return wait_for_receipt(self, transaction_hash, timeout, min(poll_latency, RECEIPT_POLL))

    def post_kept_alive(self, endpoint_uri, data, **kwargs):
        if not kwargs.get("stream"):
            content = _post_kept_alive(endpoint_uri, data, kwargs.get("timeout") or 30)
            if content is not None:
                return content
        return post(self, endpoint_uri, data, **kwargs)

    FoundryProvider._handle_execution_reverted = revert_without_trace
    ethereum_provider._post_send_transaction = lambda transaction, receipt: None
    ContractMethodHandler._validate_is_contract = known_contract
    ReceiptAPI._await_sender_nonce_increment = lambda receipt: None
    HTTPSessionManager.make_post_request = post_kept_alive
    ethereum_provider._LazyCallTrace.source_traceback = property(lambda self: None)
    ContractCall.serialize_transaction = call_without_gas
    ethereum_provider.Web3Provider.get_nonce = nonce_in_one_request
    BlockContainer.height = property(block_number)
    FixtureManager.is_stateful = stateful_once_known
    Eth.wait_for_transaction_receipt = wait_polling_often
    converters.is_checksum_address = checksummed_once
    restore_config = [
        _read_once(Ethereum, "default_transaction_type", _ecosystem_key),
        *(
            _read_once(NetworkAPI, name, _network_key)
            for name in (
                "required_confirmations",
                "base_fee_multiplier",
                "transaction_acceptance_timeout",
            )
        ),
    ]

    gc.freeze()

    def switch_on() -> None:
        FoundryProvider._handle_execution_reverted = handle_revert
        ethereum_provider._post_send_transaction = post_send
        ContractMethodHandler._validate_is_contract = validate
        ReceiptAPI._await_sender_nonce_increment = await_nonce
        HTTPSessionManager.make_post_request = post
        ethereum_provider._LazyCallTrace.source_traceback = source_traceback
        ContractCall.serialize_transaction = serialize_call
        ethereum_provider.Web3Provider.get_nonce = get_nonce
        BlockContainer.height = height
        FixtureManager.is_stateful = is_stateful
        Eth.wait_for_transaction_receipt = wait_for_receipt
        converters.is_checksum_address = is_checksum_address
        for restore in restore_config:
            restore()
        gc.unfreeze()

    return switch_on
