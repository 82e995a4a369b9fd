"""A persistent local chain: what `make node` runs.

    python -m gpu_rwa.node --port 8545 --state .anvil/state.json

Starts Anvil (bin/anvil, the wrapper ape-foundry launches too: no historical states on disk) with
the suite's mnemonic; Anvil loads the state file when it starts and writes it back when stopped
(Ctrl-C). Two things Anvil 1.x gets wrong across restarts are put right here:

- Chain time. A restarted Anvil mines at the wall clock, so a chain moved ahead (a year of
  leases in one session) would go back to today: leases in arrears, expired identities valid
  again. Once the node answers, if its head block is not behind the wall clock, its clock is set
  a second past the head (`anvil_setTime`): the next block is later than every saved one and time
  runs on from there. (Anvil's `--timestamp` is no help: it is block 0's time, and with a state
  file it gives the chain another block 0.)
- Block 0. Every start writes the genesis block it made into the state file beside the saved
  one, and after a few restarts any of them may answer as block 0; a deployment manifest knows
  its chain by block 0's hash, so before each start the file keeps only the first genesis.

Nothing is written while the node runs: stop it with Ctrl-C (or SIGTERM), which Anvil turns into
the state file; a kill -9 loses what happened since the start.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

MNEMONIC = "test test test test test test test test test test test junk"
ANVIL = Path("bin/anvil")
# The port ape-config.yaml's foundry host names: scripts find a node there without settings.
DEFAULT_PORT = 8545
DEFAULT_STATE = Path(".anvil/state.json")
START_TIMEOUT_SECONDS = 30


def rpc(url: str, method: str, params: list | None = None, timeout: float = 5.0):
    """One JSON-RPC call over plain HTTP (no ape, no web3: this runs before either connects)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.load(response)
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether a node answers `eth_chainId` at `url` within `timeout` seconds."""
    try:
        rpc(url, "eth_chainId", timeout=timeout)
    except (OSError, ValueError, RuntimeError):
        return False
    return True


def keep_first_genesis(state: Path) -> None:
    """Drop the genesis blocks later starts added to `state`, keeping the earliest block 0 (the
    chain's own: every later one was made at a later start)."""
    if not state.exists():
        return
    dump = json.loads(state.read_text())
    blocks = dump.get("blocks") or []
    genesis = [block for block in blocks if int(block["header"]["number"], 16) == 0]
    if len(genesis) < 2:
        return
    first = min(genesis, key=lambda block: int(block["header"]["timestamp"], 16))
    later = {id(block) for block in genesis if block is not first}
    dump["blocks"] = [block for block in blocks if id(block) not in later]
    partial = state.with_suffix(".partial")
    partial.write_text(json.dumps(dump))
    os.replace(partial, state)


def _head_time(url: str) -> int:
    return int(rpc(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def _keep_time_moving_forward(url: str) -> int:
    """Set the node's clock past its head block's time if the head is not behind the wall
    clock; returns the head's time."""
    head_time = _head_time(url)
    if head_time >= int(time.time()):
        rpc(url, "anvil_setTime", [head_time + 1])
    return head_time


def wait_until_answering(url: str, node: subprocess.Popen) -> bool:
    """Whether the node started as `node` answers at `url` before it exits or
    START_TIMEOUT_SECONDS pass."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not answers(url):
        if node.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _announce(url: str, head_time: int, state: Path, port: int) -> None:
    at = datetime.fromtimestamp(head_time, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    chain_id = int(rpc(url, "eth_chainId"), 16)
    print(f"node on {url}: chain id {chain_id}, head block at {at}; Ctrl-C saves it to {state}")
    if port != DEFAULT_PORT:
        print(f"scripts reach it with: export APE_FOUNDRY_HOST={url}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    parser.add_argument(
        "--state", type=Path, default=DEFAULT_STATE, help="state file, loaded and saved"
    )
    args = parser.parse_args(argv)
    if shutil.which(ANVIL) is None:
        parser.error(f"{ANVIL} not found: run from the project's folder after `make deps`")
    url = f"http://127.0.0.1:{args.port}"
    if answers(url):
        parser.error(f"something already listens on {url}; stop it first")
    args.state.parent.mkdir(parents=True, exist_ok=True)
    keep_first_genesis(args.state)

    stop_requested = False
    anvil: subprocess.Popen | None = None

    def stop(signum, frame) -> None:
        # Ctrl-C reaches only this process (Anvil runs in a session of its own): Anvil is sent
        # one SIGINT, the signal on which it writes the state file, and is waited for.
        nonlocal stop_requested
        if anvil is not None and not stop_requested:
            anvil.send_signal(signal.SIGINT)
        stop_requested = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    command = [str(ANVIL), "--port", str(args.port), "--mnemonic", MNEMONIC]
    anvil = subprocess.Popen([*command, "--state", str(args.state)], start_new_session=True)
    try:
        if stop_requested:
            anvil.send_signal(signal.SIGINT)
        elif wait_until_answering(url, anvil):
            _announce(url, _keep_time_moving_forward(url), args.state, args.port)
    except BaseException:
        # Anvil runs in its own session: it would outlive this process unless stopped here.
        stop(signal.SIGINT, None)
        anvil.wait()
        raise
    returncode = anvil.wait()
    return 0 if stop_requested else returncode


if __name__ == "__main__":
    sys.exit(main())
