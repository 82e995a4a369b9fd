"""Run a command against a Ganache node started for it, and stop the node afterwards.

    python -m gpu_rwa.ganache --port 8555 -- ape test --network ethereum:local:ganache-local

Ape starts Anvil itself (ape-foundry); for Ganache this module plays that part, and points the
ape-ganache-local provider (`--network ethereum:local:ganache-local`) at the node through
APE_GANACHE_LOCAL_HOST.
"""

import argparse
import os
import shutil
import subprocess
import sys

from gpu_rwa.node import MNEMONIC, answers, wait_until_answering


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8555)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    ganache = shutil.which("ganache")
    if ganache is None:
        parser.error("ganache is not on PATH (run `npm ci`, then put node_modules/.bin on PATH)")
    url = f"http://127.0.0.1:{args.port}"
    if answers(url):
        parser.error(f"something already listens on {url}; stop it first")

    node = subprocess.Popen(
        [
            ganache,
            "--port", str(args.port),
            "--chain.chainId", "1337",
            "--wallet.mnemonic", MNEMONIC,
            "--wallet.totalAccounts", "10",
            "--wallet.defaultBalance", "10000",
            "--miner.blockGasLimit", "30000000",
            "--logging.quiet",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        if not wait_until_answering(url, node):
            print(f"ganache did not start on {url}", file=sys.stderr)
            return 1
        # The ape-ganache-local provider connects wherever this says.
        return subprocess.call(command, env={**os.environ, "APE_GANACHE_LOCAL_HOST": url})
    finally:
        node.terminate()
        try:
            node.wait(timeout=10)
        except subprocess.TimeoutExpired:
            node.kill()


if __name__ == "__main__":
    sys.exit(main())
