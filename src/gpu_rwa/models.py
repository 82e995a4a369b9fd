"""Base model for every input the package reads: unknown keys are errors, values are frozen."""

import json
import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from gpu_rwa.errors import UserError


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def describe_validation_error(source: str, error: ValidationError) -> str:
    """The first problem of `error` as one line: `<source>: <field path>: <message>`."""
    # An unknown key usually explains the missing ones (a typo), so it is named first.
    errors = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    if not first["loc"] and first["type"] == "value_error":
        # A check across sections names the fields it is about itself.
        return f"{source}: {message}{suffix}"
    return f"{source}: {where}: {message}{suffix}"


M = TypeVar("M", bound=StrictModel)


def load_yaml_model(model: type[M], path: Path) -> M:
    """Read and validate a YAML file, raising UserError with one clear line on any problem."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise UserError(describe_validation_error(str(path), exc)) from exc


def load_json_model(model: type[M], path: Path) -> M:
    """Read and validate a JSON file, raising UserError with one clear line on any problem."""
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise UserError(f"{path}: not valid JSON") from exc
        raise UserError(describe_validation_error(str(path), exc)) from exc


def write_atomically(path: Path, data: bytes) -> None:
    """`data` as the file at `path`: a crash leaves the old file or the new one, never half of
    one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def write_json_model(model: BaseModel, path: Path) -> None:
    """`model` as indented JSON at `path`, atomically (`write_atomically`)."""
    write_atomically(path, (json.dumps(model.model_dump(mode="json"), indent=2) + "\n").encode())
