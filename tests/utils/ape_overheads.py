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
  down) read exactly as they did.
"""

import http.client
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import ape_ethereum.provider as ethereum_provider
from ape.api.transactions import ReceiptAPI
from ape.contracts.base import ContractMethodHandler
from ape_foundry.provider import FoundryProvider
from web3._utils.http_session_manager import HTTPSessionManager

_connections = threading.local()


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


def switch_off() -> Callable[[], None]:
    """Switch them off; returns the function that switches them back on."""
    handle_revert = FoundryProvider._handle_execution_reverted
    post_send = ethereum_provider._post_send_transaction
    validate = ContractMethodHandler._validate_is_contract
    await_nonce = ReceiptAPI._await_sender_nonce_increment
    post = HTTPSessionManager.make_post_request
    contracts: set[str] = set()

    def revert_without_trace(self, exception, revert_message=None, **kwargs):
        kwargs.pop("trace", None)
        kwargs.pop("txn", None)
        return handle_revert(self, exception, revert_message=revert_message, **kwargs)

    def known_contract(self):
        address = self.contract.address
        if address not in contracts:
            validate(self)
            contracts.add(address)

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

    def switch_on() -> None:
        FoundryProvider._handle_execution_reverted = handle_revert
        ethereum_provider._post_send_transaction = post_send
        ContractMethodHandler._validate_is_contract = validate
        ReceiptAPI._await_sender_nonce_increment = await_nonce
        HTTPSessionManager.make_post_request = post

    return switch_on
