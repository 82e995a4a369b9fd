"""The command classes and click options shared by the `ape run` scripts."""

import sys
from pathlib import Path
from urllib.parse import urlsplit

import ape_ethereum.provider as ethereum_provider
import click
from ape import cli as ape_cli
from ape.api import ProviderAPI
from ape.exceptions import TransactionError
from ape.logging import LogLevel, logger
from ape_foundry.provider import FoundryProvider
from pydantic import ValidationError
from rich.console import Console

from gpu_rwa.chain import (
    chain_differences,
    local_node_uri,
    network_name,
    node_address,
    starts_own_node,
)
from gpu_rwa.config import DeployConfig, load_deploy_config
from gpu_rwa.errors import UserError
from gpu_rwa.manifest import Manifest, manifest_path, read_manifest
from gpu_rwa.models import StrictModel
from gpu_rwa.node import DEFAULT_PORT, answers
from gpu_rwa.types import address_or_error

# Piped output (CI logs, files) gets room for the registry table instead of rich's 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

# Ape logs every confirmed transaction at INFO, which buries progress bars and tables; keep its
# default quieter while an explicit `-v DEBUG` still wins.
if logger.level == LogLevel.INFO:
    logger.set_level(LogLevel.WARNING)

# Ape prints a reverted transaction's call trace (a dozen lines and the raw revert data) before it
# raises, after fetching it from the node, and rewrites the exception's Python traceback into the
# contract's source (logging an ERROR line where the node serves no trace, as on Ganache); the
# scripts turn the revert into one line of their own (`gpu_rwa.chain.send`), so all of that is
# done only for `-v DEBUG`. Anvil's provider shows the trace from the trace or transaction it is
# handed (nothing else reads them there); the generic one may need the trace for the revert's
# reason, so only its showing is skipped.
_foundry_revert = FoundryProvider._handle_execution_reverted
_revert_trace = ethereum_provider._get_trace_from_revert_kwargs
_source_traceback = TransactionError._get_ape_traceback


def _debugging() -> bool:
    return logger.level <= LogLevel.DEBUG


def _foundry_revert_without_trace(self, exception, revert_message=None, **kwargs):
    if not _debugging():
        kwargs.pop("trace", None)
        kwargs.pop("txn", None)
    return _foundry_revert(self, exception, revert_message=revert_message, **kwargs)


def _revert_trace_when_debugging(**kwargs):
    return _revert_trace(**kwargs) if _debugging() else None


def _source_traceback_when_debugging(self):
    return _source_traceback(self) if _debugging() else None


FoundryProvider._handle_execution_reverted = _foundry_revert_without_trace
ethereum_provider._get_trace_from_revert_kwargs = _revert_trace_when_debugging
TransactionError._get_ape_traceback = _source_traceback_when_debugging


class ConnectedProviderCommand(ape_cli.ConnectedProviderCommand):
    """ape's command that connects to `--network` before running, except in place of the user's
    node. Where no node answers at a local address, ape-foundry starts an Anvil there for the
    one command and stops it after: a deploy would write a manifest of a chain about to vanish,
    any other script would find none of the user's work. So on the local network the command
    refuses in one line, before ape starts anything, naming the address and `make node`.

    Checked before connecting, by an `eth_chainId` with a 1 s timeout, rather than after by
    `provider.process` (set when ape started the node): that one refuses only once a throwaway
    has started, and the test suite runs the scripts on its own Anvil, which ape did start."""

    def invoke(self, ctx: click.Context):
        provider = ctx.params.get("network")
        if isinstance(provider, ProviderAPI):
            _require_running_node(provider, ctx.params.get("manifest_file"))
        return super().invoke(ctx)


def _require_running_node(provider: ProviderAPI, manifest_file: Path | None) -> None:
    uri = local_node_uri(provider)
    if uri is None or not starts_own_node(provider, uri) or answers(uri):
        return
    port = urlsplit(uri).port
    start = "make node" if port in (None, DEFAULT_PORT) else f"make node NODE_PORT={port}"
    path = manifest_file or manifest_path(provider.network.name)
    manifest = read_manifest(path)
    if manifest is None:
        raise UserError(
            f"node at {uri} is not reachable; start it with `{start}` (a chain started for one "
            "command would be gone when it ends)"
        )
    where = "there" if manifest.node in (None, node_address(uri)) else f"on {manifest.node}"
    raise UserError(
        f"node at {uri} is not reachable ({path} was deployed {where}); start it with `{start}`"
    )


class FreshChainCommand(ape_cli.ConnectedProviderCommand):
    """The command of a story that deploys a pool of its own and moves chain time (the demo,
    the benchmark): it runs only on an Anvil ape starts for it, never on a node already running,
    whose chain it would spoil (and whose contracts, deployed by the same test accounts at the
    same addresses, it could take for its own). `advice` says what the story would do there and
    how to run it apart."""

    def __init__(self, *args, advice: str, **kwargs):
        self.advice = advice
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        provider = ctx.params.get("network")
        uri = local_node_uri(provider) if isinstance(provider, ProviderAPI) else None
        if uri is not None and answers(uri):
            raise UserError(f"a node already runs at {uri}: {self.advice}")
        return super().invoke(ctx)


def _load_config(ctx: click.Context, param: click.Parameter, value: Path) -> DeployConfig:
    # Runs while parsing, before ape connects: a bad config costs no node start-up.
    return load_deploy_config(value)


config_option = click.option(
    "--config",
    "deploy_config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("config/local.yaml"),
    show_default=True,
    callback=_load_config,
    help="Deploy configuration (YAML).",
)

manifest_option = click.option(
    "--manifest",
    "manifest_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Deployment manifest [default: deployments/<network>.json].",
)

account_option = click.option(
    "--account",
    "account_alias",
    default=None,
    help="Sender: an ape account alias or TEST::<n> [default on local chains: the role's account].",
)


def address_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: the address checksummed, or UserError naming the option or argument."""
    label = f"--{param.name}" if isinstance(param, click.Option) else param.human_readable_name
    return None if value is None else address_or_error(value, label)


def manifest_file_or_default(manifest_file: Path | None) -> Path:
    return manifest_file or manifest_path(network_name())


def require_manifest(manifest_file: Path | None) -> Manifest:
    """The manifest of the connected chain, or UserError saying how to get one."""
    path = manifest_file_or_default(manifest_file)
    manifest = read_manifest(path)
    if manifest is None:
        raise UserError(f"{path}: no deployment manifest; run `ape run deploy` first")
    if differences := chain_differences(manifest):
        raise UserError(
            f"{path} describes another chain than the one connected ({'; '.join(differences)}); "
            "connect to the node it was deployed on, or deploy here afresh with "
            "`ape run deploy --replace`"
        )
    return manifest


def validated(model: type[StrictModel], values: dict, context: dict | None = None):
    """CLI input (keyed by field name) through `model`, or UserError `<option>: <problem>`.

    A field's alias is the option or argument it comes from (`--min-fractions`, `AMOUNT`), so the
    one line names what the user typed.
    """
    data = {(model.model_fields[name].alias or name): value for name, value in values.items()}
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        # The option alone (a list's index adds nothing: the message quotes the bad value).
        raise UserError(f"{error['loc'][0]}: {message}" if error["loc"] else message) from exc
