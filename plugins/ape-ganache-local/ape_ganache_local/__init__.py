"""Ape plugin: the ``ganache`` provider for ``ethereum:local``.

Ape's generic ``node`` provider cannot snapshot, travel in time or read Ganache's revert
reasons, so tests written for Anvil would not run unchanged on Ganache. This provider speaks
Ganache's dialect of the same JSON-RPC (``evm_snapshot``/``evm_revert``, ``evm_setTime``,
``evm_mine`` and its ``VM Exception ... revert <reason>`` errors).
"""

from ape import plugins
from ape_vyper.config import VyperConfig

# ape-vyper 0.8 annotates VyperConfig.import_remapping with "Remapping" before it defines that
# class, and never completes the model: pydantic-settings then warns on every `ape` command.
# Ape imports every plugin before it reads any configuration, so completing the model here
# ends the warning at its cause for every command of this project's venv.
VyperConfig.model_rebuild()


@plugins.register(plugins.Config)
def config_class():
    from .provider import GanacheConfig

    return GanacheConfig


@plugins.register(plugins.ProviderPlugin)
def providers():
    from ape.api.networks import LOCAL_NETWORK_NAME

    from .provider import GanacheProvider

    yield "ethereum", LOCAL_NETWORK_NAME, GanacheProvider
