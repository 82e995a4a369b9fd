"""The user's chain is never replaced: with its node down every script refuses before ape starts a
throwaway Anvil in its place; a manifest of another chain (chain id or genesis hash) is named as
such; the demo and the benchmark, which move chain time, refuse a node that is already running."""

import socket
from pathlib import Path

import click
import pytest
from ape import chain
from eth_utils import to_hex

from gpu_rwa import cli as gpu_cli
from gpu_rwa.manifest import Compiler, Manifest, write_manifest
from gpu_rwa.node import answers
from tests.scripts.utils import refused, rewrite, script
from tests.utils.scripts import SCRIPTS, run_script, script_command

INVESTOR = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
# One command of each script that works on a deployment, with arguments it parses.
COMMANDS = [
    ("appraise", "show", "1"),
    ("audit",),
    ("compliance", "status", INVESTOR),
    ("custody", "submit", "visit.json"),
    ("deploy",),
    ("governance", "status"),
    ("invest", "portfolio", INVESTOR),
    ("kyc", "status", INVESTOR),
    ("lease", "status"),
    ("registry", "list"),
    ("vault", "status"),
]
# The stories that deploy their own pool and move chain time.
FRESH_CHAIN_SCRIPTS = {"demo", "bench"}


def _leaves(command: click.Command):
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _leaves(sub)
    else:
        yield command


def test_every_script_command_checks_the_node_first():
    names = sorted(path.stem for path in SCRIPTS.glob("*.py"))
    assert {name for name, *_ in COMMANDS} | FRESH_CHAIN_SCRIPTS == set(names)
    for name in names:
        wanted = (
            gpu_cli.FreshChainCommand
            if name in FRESH_CHAIN_SCRIPTS
            else gpu_cli.ConnectedProviderCommand
        )
        for command in _leaves(script_command(name)):
            assert isinstance(command, wanted), (name, command.name)


@pytest.fixture
def node_down(monkeypatch) -> tuple[str, int]:
    """APE_FOUNDRY_HOST at a port where nothing listens: (its URL, the port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("APE_FOUNDRY_HOST", url)
    return url, port


def on_foundry(*args: str):
    """The script on the default local provider, ape-foundry, which would start an Anvil where
    none answers (whichever node the suite runs on)."""
    return run_script(*args, network="ethereum:local:foundry")


def written_manifest(path, node: str | None) -> None:
    write_manifest(
        Manifest(
            network="local",
            chain_id=31337,
            node=node,
            compiler=Compiler(version="0.4.3", evm_version="shanghai"),
        ),
        path,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_node_down_refused_before_any_node_starts(command, node_down, manifest_file):
    url, port = node_down
    written_manifest(manifest_file, url)

    result = on_foundry(*command, "--manifest", str(manifest_file))

    refused(
        result,
        f"node at {url} is not reachable ({manifest_file} was deployed there); start it with "
        f"`make node NODE_PORT={port}`",
    )
    assert not answers(url)


def test_node_down_names_where_the_manifest_was_deployed(node_down, manifest_file):
    url, _ = node_down
    written_manifest(manifest_file, "http://127.0.0.1:8545")

    result = on_foundry("vault", "status", "--manifest", str(manifest_file))

    refused(
        result,
        f"node at {url} is not reachable ({manifest_file} was deployed on http://127.0.0.1:8545)",
    )


def test_node_down_without_a_manifest_deploys_nothing(node_down, manifest_file):
    url, port = node_down

    result = on_foundry("deploy", "--manifest", str(manifest_file))

    refused(
        result,
        f"node at {url} is not reachable; start it with `make node NODE_PORT={port}` (a chain "
        "started for one command would be gone when it ends)",
    )
    assert not manifest_file.exists()
    assert not answers(url)


def test_default_port_says_make_node(monkeypatch, manifest_file):
    url = "http://127.0.0.1:8545"
    if answers(url):
        pytest.skip(f"a node runs at {url} on this machine")
    monkeypatch.setenv("APE_FOUNDRY_HOST", url)

    result = on_foundry("vault", "status", "--manifest", str(manifest_file))

    refused(result, f"node at {url} is not reachable; start it with `make node` (a chain")


@pytest.fixture
def pool_manifest(deployed_pool, tmp_path):
    """A copy of the deployed pool's manifest, for a test to edit."""
    path = tmp_path / "pool.json"
    path.write_text(Path(deployed_pool.manifest).read_text())
    return path


OTHER_GENESIS = "0x" + "cd" * 32


@pytest.mark.parametrize(
    ("changes", "differences"),
    [
        ({"chain_id": 5}, ["chain id 5 in the manifest, {chain_id} on the node"]),
        (
            {"genesis_hash": OTHER_GENESIS},
            ["genesis hash " + OTHER_GENESIS + " in the manifest, {genesis} on the node"],
        ),
        (
            {"chain_id": 5, "genesis_hash": OTHER_GENESIS},
            [
                "chain id 5 in the manifest, {chain_id} on the node",
                "genesis hash " + OTHER_GENESIS + " in the manifest, {genesis} on the node",
            ],
        ),
    ],
    ids=["chain id", "genesis hash", "both"],
)
def test_manifest_of_another_chain_says_what_differs(
    deployed_pool, pool_manifest, changes, differences
):
    rewrite(pool_manifest, lambda data: data.update(changes))
    genesis = to_hex(chain.blocks[0].hash)
    named = "; ".join(d.format(chain_id=chain.chain_id, genesis=genesis) for d in differences)

    result = run_script("vault", "status", "--manifest", str(pool_manifest))

    refused(
        result,
        f"{pool_manifest} describes another chain than the one connected ({named}); connect to "
        "the node it was deployed on, or deploy here afresh with `ape run deploy --replace`",
    )


def test_manifest_of_this_chain_is_accepted(deployed_pool):
    result = script(deployed_pool, "governance", "status")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        (
            "demo",
            "the demo would deploy over its chain and move its time by a year; run `make demo` "
            "(or `make demo-default`), which starts an Anvil of its own",
        ),
        (
            "bench",
            "the benchmark would deploy over its chain and move its time; run `make bench`, "
            "which starts an Anvil of its own",
        ),
    ],
)
def test_time_moving_stories_refuse_a_running_node(name, advice, admin):
    """`make node` runs: `ape run demo` would connect to it. The demo, on the test accounts'
    chain, would reuse the user's contracts (same deployer, same nonces, same addresses) and
    move the chain a year on; it refuses, naming the target that starts an Anvil of its own."""
    nonce, head = admin.nonce, chain.blocks.head.number

    result = run_script(name)

    refused(result, f"a node already runs at {chain.provider.http_uri}: {advice}")
    assert (admin.nonce, chain.blocks.head.number) == (nonce, head)
