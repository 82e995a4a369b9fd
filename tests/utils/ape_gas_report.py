"""What `ape test --gas` needs from ape 0.8 that ape gets wrong for this suite's calls.

With `--gas`, ape makes every contract call through `debug_traceCall` (to count its gas) and
answers from the trace instead of an `eth_call`:
- the call tree it builds from the trace's struct logs has no return data, so the gas report's
  enrichment decodes the call's outputs from nothing: zeros, which a struct-returning view
  (`IdentityRegistry.identity`) cannot hold, and the call crashes with `TypeError: 'NoneType'
  object is not iterable` before the test sees a value. The trace has the data (`returnValue`):
  the tree gets it;
- a call that reverts comes back as its revert data, decoded as if it were the result, where
  without `--gas` it raises: a reverting call is made again as a plain `eth_call`, which raises
  exactly as it does without `--gas`.
Nothing here runs without `--gas`: only the traced path is changed.
"""

from collections.abc import Callable

from ape_ethereum.provider import Web3Provider
from ape_ethereum.trace import CallTrace
from hexbytes import HexBytes


class _Reverted(Exception):
    """A traced call reverted: ape would return its revert data as the result."""


def repair() -> Callable[[], None]:
    """Repair the traced path; returns the function that restores ape's own."""
    get_calltree = CallTrace.get_calltree
    return_value = CallTrace.return_value
    send_call = Web3Provider.send_call

    def calltree_with_return_data(self):
        calltree = get_calltree(self)
        calltree.returndata = HexBytes(return_value.fget(self))
        return calltree

    def return_value_unless_reverted(self):
        if self._traced_call.get("failed"):
            raise _Reverted
        return return_value.fget(self)

    def call_raising_on_revert(self, txn, block_id=None, state=None, **kwargs):
        try:
            return send_call(self, txn, block_id, state, **kwargs)
        except _Reverted:
            return send_call(self, txn, block_id, state, **{**kwargs, "skip_trace": True})

    CallTrace.get_calltree = calltree_with_return_data
    CallTrace.return_value = property(return_value_unless_reverted)
    Web3Provider.send_call = call_raising_on_revert

    def restore() -> None:
        CallTrace.get_calltree = get_calltree
        CallTrace.return_value = return_value
        Web3Provider.send_call = send_call

    return restore
