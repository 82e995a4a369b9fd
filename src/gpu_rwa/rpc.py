"""JSON-RPC batches: many requests in one HTTP round trip to the node (reads at scale, and the
benchmark's raw transactions), one at a time where the node or the provider takes no batches;
and `BlockReader`, contract views read at one block in such batches."""

from collections import namedtuple
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ape import chain
from ape.contracts.base import ContractMethodHandler
from ape.exceptions import ProviderError
from eth_abi import decode, encode
from eth_utils import encode_hex, keccak, to_checksum_address

# Requests in one batch: public endpoints cap batches (commonly at 100 to 1,000 requests).
BATCH_SIZE = 100


def batch_responses(requests: list[tuple[str, list]]) -> list[dict[str, Any]]:
    """The node's response object (`result` or `error`) to each request, in order."""
    responses: list[dict[str, Any]] = []
    for start in range(0, len(requests), BATCH_SIZE):
        responses += _batch(requests[start : start + BATCH_SIZE])
    return responses


def batch_request(requests: list[tuple[str, list]]) -> list[Any]:
    """The result of each request, in order; a request the node answers with an error raises
    ProviderError with its message."""
    results = []
    for response in batch_responses(requests):
        if "error" in response:
            raise ProviderError(_message(response["error"]))
        results.append(response.get("result"))
    return results


def _batch(requests: list[tuple[str, list]]) -> list[dict[str, Any]]:
    web3_provider = chain.provider.web3.provider
    make_batch = getattr(web3_provider, "make_batch_request", None)
    if make_batch is not None:
        responses = make_batch(requests)
        # A node that takes no batches answers the whole batch with one error object.
        if isinstance(responses, list) and len(responses) == len(requests):
            return list(responses)
    return [web3_provider.make_request(method, params) for method, params in requests]


def _message(error: Any) -> str:
    return str(error.get("message", error)) if isinstance(error, dict) else str(error)


@dataclass(frozen=True)
class ContractCall:
    """One view (or a transaction simulated): `method` is an ape contract method handler."""

    method: ContractMethodHandler
    args: tuple = ()
    sender: str | None = None


class BlockReader:
    """eth_calls pinned at one block, so that every figure is read from the same state, sent in
    JSON-RPC batches, encoded and decoded with eth_abi (ape's per-call overhead is ~10 ms)."""

    def __init__(self, block: int):
        self.block = hex(block)

    def read(self, calls: Sequence[ContractCall]) -> list[Any]:
        """Each call's result as ape returns it (address checksummed, a struct with its field
        names, several outputs as a tuple); a revert raises ProviderError."""
        return [
            _result(call, response)
            for call, response in zip(calls, self._responses(calls), strict=True)
        ]

    def each(self, method: ContractMethodHandler, values: Iterable[Any]) -> list[Any]:
        """`method` (of one argument) called with each of `values`."""
        return self.read([ContractCall(method, (value,)) for value in values])

    def by_key(self, method: ContractMethodHandler, keys: Sequence[Any]) -> dict[Any, Any]:
        """`method` (of one argument) called with each key, by key."""
        return dict(zip(keys, self.each(method, keys), strict=True))

    def named(self, calls: dict[str, ContractCall]) -> dict[str, Any]:
        """Each call's result under its name."""
        return dict(zip(calls, self.read(list(calls.values())), strict=True))

    def simulate(self, calls: Sequence[ContractCall]) -> list[Any]:
        """As `read`, with None where the call reverts."""
        return [
            None if "error" in response else _result(call, response)
            for call, response in zip(calls, self._responses(calls), strict=True)
        ]

    def _responses(self, calls: Sequence[ContractCall]) -> list[dict[str, Any]]:
        requests = []
        for call in calls:
            transaction = {"to": call.method.contract.address, "data": _calldata(call)}
            if call.sender is not None:
                transaction["from"] = call.sender
            requests.append(("eth_call", [transaction, self.block]))
        return batch_responses(requests)


def _result(call: ContractCall, response: dict[str, Any]) -> Any:
    if "error" in response:
        raise ProviderError(_message(response["error"]))
    return _decoded_output(call, response["result"])


def _abi(call: ContractCall):
    return next(abi for abi in call.method.abis if len(abi.inputs) == len(call.args))


def _calldata(call: ContractCall) -> str:
    abi = _abi(call)
    types = [i.canonical_type for i in abi.inputs]
    selector = keccak(text=abi.selector)[:4]
    if all(t == "address" or t.startswith("uint") for t in types):
        # One word each: eth_abi's address checks cost more than the rest of a call together.
        words = (_word(t, value) for t, value in zip(types, call.args, strict=True))
        return encode_hex(selector + b"".join(words))
    return encode_hex(selector + encode(types, call.args))


def _word(abi_type: str, value: Any) -> bytes:
    if abi_type == "address":
        return bytes.fromhex(str(value)[2:]).rjust(32, b"\0")
    return int(value).to_bytes(32, "big")


def _decoded_output(call: ContractCall, result: str) -> Any:
    outputs = _abi(call).outputs
    values = decode([o.canonical_type for o in outputs], bytes.fromhex(result[2:]))
    converted = tuple(
        _converted(o.type, o.components, v) for o, v in zip(outputs, values, strict=True)
    )
    return converted[0] if len(converted) == 1 else converted


def _converted(abi_type: str, components, value: Any) -> Any:
    if abi_type.endswith("]"):
        element = abi_type[: abi_type.rindex("[")]
        return [_converted(element, components, v) for v in value]
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type == "tuple":
        fields = [
            _converted(c.type, c.components, v) for c, v in zip(components, value, strict=True)
        ]
        return _struct(tuple(c.name for c in components))(*fields)
    return value


@cache
def _struct(names: tuple[str, ...]) -> type:
    return namedtuple("Struct", names)
