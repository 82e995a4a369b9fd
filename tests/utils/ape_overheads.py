"""Three things ape does on every call that this suite never uses, switched off for the session.

On Anvil each is a JSON-RPC round trip or more, and together they were most of the suite's time:
- a reverting call is traced step by step to build a source traceback and print its call tree
  (about half a second a revert); the tests match exact revert reasons, which Anvil returns
  without a trace (the Ganache provider never traces either);
- every transaction to a contract is traced to print the contract's debug logs (no contract here
  prints);
- every call and transaction first fetches the target's code to check it is a contract; a
  contract found once stays one for the session (nothing here self-destructs).
"""

from collections.abc import Callable

import ape_ethereum.provider as ethereum_provider
from ape.contracts.base import ContractMethodHandler
from ape_foundry.provider import FoundryProvider


def switch_off() -> Callable[[], None]:
    """Switch the three off; returns the function that switches them back on."""
    handle_revert = FoundryProvider._handle_execution_reverted
    post_send = ethereum_provider._post_send_transaction
    validate = ContractMethodHandler._validate_is_contract
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

    FoundryProvider._handle_execution_reverted = revert_without_trace
    ethereum_provider._post_send_transaction = lambda transaction, receipt: None
    ContractMethodHandler._validate_is_contract = known_contract

    def switch_on() -> None:
        FoundryProvider._handle_execution_reverted = handle_revert
        ethereum_provider._post_send_transaction = post_send
        ContractMethodHandler._validate_is_contract = validate

    return switch_on
