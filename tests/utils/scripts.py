"""Run an `ape run` script's click command in-process, on the chain the suite is connected to."""

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import click
from ape import networks
from ape_ethereum.provider import Web3Provider
from click.testing import CliRunner, Result

SCRIPTS = Path(__file__).parents[2] / "scripts"


@cache
def script_command(name: str) -> click.Command:
    spec = importlib.util.spec_from_file_location(f"scripts.{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


def _keep_connected() -> click.Context:
    """A parent context as `ape run --interactive` leaves: the script uses the suite's provider
    and does not disconnect it on exit (disconnecting costs more than the command itself). A new
    one each run: click shares a parent's `meta` with its children."""
    context = click.Context(click.Command("ape"))
    context.params["interactive"] = True
    return context


@cache
def _network_choice() -> str:
    # The suite stays on one network; ape recomputes the choice from its config on each read.
    return networks.provider.network_choice


@contextmanager
def _suite_provider() -> Iterator[None]:
    """While a script runs, its `--network` (the suite's choice) names the provider the suite is
    connected to, which is known to be connected and whose choice is read once. Otherwise ape
    builds a provider of its own for the command, connects it, finds it is the same connection
    (an id made of the choice, ~0.1 s of settings models to work out) and disconnects it again,
    which walks every node process ape has recorded under ~/.ape reading settings for each: most
    of a script test. (Asked whether it is connected, ape-foundry's provider builds a new web3
    client and fetches two blocks.)"""
    manager = type(networks)
    get_provider = manager.get_provider_from_choice
    network_choice = Web3Provider.network_choice
    provider = networks.provider
    provider_type = type(provider)
    is_connected = provider_type.is_connected
    choice = _network_choice()

    def suite_provider(self, network_choice=None, provider_settings=None):
        if network_choice == choice and not provider_settings:
            return provider
        return get_provider(self, network_choice, provider_settings)

    def suite_choice(self) -> str:
        return choice if self is provider else network_choice.fget(self)

    def suite_connected(self) -> bool:
        return self is provider or is_connected.fget(self)

    manager.get_provider_from_choice = suite_provider
    Web3Provider.network_choice = property(suite_choice)
    provider_type.is_connected = property(suite_connected)
    try:
        yield
    finally:
        manager.get_provider_from_choice = get_provider
        Web3Provider.network_choice = network_choice
        provider_type.is_connected = is_connected


def run_script(name: str, *args: str, network: str | None = None) -> Result:
    """`ape run <name> <args> --network <network, by default the suite's>`; check `.exit_code`,
    `.output`."""
    with _suite_provider():
        return CliRunner().invoke(
            script_command(name),
            [*args, "--network", network or _network_choice()],
            parent=_keep_connected(),
        )
