"""`make node` (gpu_rwa.node): a restarted node keeps its block 0 and its chain time never goes
back, whatever the wall clock says."""

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gpu_rwa.node import keep_first_genesis, rpc

PROJECT = Path(__file__).parents[2]
YEAR = 365 * 24 * 3600


def _block(number: int, timestamp: int) -> dict:
    return {"header": {"number": hex(number), "timestamp": hex(timestamp)}, "transactions": []}


def test_state_keeps_only_the_first_genesis(tmp_path):
    """Anvil writes the genesis block each start made beside the chain's own: the earliest stays."""
    first, one, two = _block(0, 1_000), _block(1, 1_010), _block(2, 1_020)
    later, latest = _block(0, 2_000), _block(0, 3_000)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"blocks": [two, later, first, one, latest], "accounts": {}}))

    keep_first_genesis(state)

    assert json.loads(state.read_text()) == {"blocks": [two, first, one], "accounts": {}}


def test_state_with_one_genesis_is_left_alone(tmp_path):
    state = tmp_path / "state.json"
    text = json.dumps({"blocks": [_block(0, 1_000), _block(1, 1_010)]})
    state.write_text(text)

    keep_first_genesis(state)
    keep_first_genesis(tmp_path / "absent.json")

    assert state.read_text() == text
    assert not (tmp_path / "absent.json").exists()


class Node:
    """`python -m gpu_rwa.node` on a free port, started and stopped as `make node` is."""

    def __init__(self, state: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "gpu_rwa.node", "--port", str(port), "--state", state]
        self.process = subprocess.Popen(
            command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        # Anvil's own banner comes first; the node's line says it is ready, clock set.
        self.ready = next(line for line in self.process.stdout if line.startswith("node on"))

    def block(self, tag: str) -> tuple[str, int]:
        block = rpc(self.url, "eth_getBlockByNumber", [tag, False])
        return block["hash"], int(block["timestamp"], 16)

    def stop(self) -> int:
        """Ctrl-C: Anvil writes the state; the node's exit code."""
        self.process.send_signal(signal.SIGINT)
        self.process.stdout.read()
        return self.process.wait(timeout=30)


@pytest.mark.anvil_only("starts Anvils of its own (the suite's node plays no part): runs once")
def test_restart_keeps_genesis_and_time_moves_forward(tmp_path):
    state = tmp_path / "state.json"
    node = Node(state)
    try:
        genesis = node.block("0x0")
        rpc(node.url, "evm_increaseTime", [YEAR])
        rpc(node.url, "evm_mine")
        head = node.block("latest")
    finally:
        assert node.stop() == 0
    assert head[1] >= genesis[1] + YEAR

    node = Node(state)
    try:
        assert (node.block("0x0"), node.block("latest")) == (genesis, head)
        rpc(node.url, "evm_mine")
        after_restart = node.block("latest")
    finally:
        assert node.stop() == 0
    assert after_restart[1] > head[1]

    node = Node(state)
    try:
        assert (node.block("0x0"), node.block("latest")) == (genesis, after_restart)
    finally:
        assert node.stop() == 0
