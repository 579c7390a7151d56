"""What every ``gateway`` command shares: the one-line failure, running the library's coroutines,
settings with the command's flags laid over them, and tables for humans.

The command group modules import this module and the library only; ``gateway.cli.main`` imports
the groups to attach them, so nothing here or in a group may import it back.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import GatewayError
from gateway.settings import Settings, load_settings

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Print ``gateway: error: <message>`` on stderr and exit with status 1."""
    click.echo(f"gateway: error: {message}", err=True)
    sys.exit(1)


def one_line_errors(command: Callable[..., T]) -> Callable[..., T]:
    """Turn the library's errors into the CLI's one-line failure."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return command(*args, **kwargs)
        except GatewayError as error:
            fail(str(error))
        except SQLAlchemyError as error:
            fail(f"database error: {type(error).__name__}: {error.args[0] if error.args else ''}")
        except OSError as error:
            fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))

    return wrapper


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one of the library's coroutines to completion, as a command does once."""
    return asyncio.run(coroutine)


def settings_with(**sections: dict[str, Any]) -> Settings:
    """The settings, with the flags a command was given (those not ``None``) laid over them."""
    overrides = {
        name: {key: value for key, value in values.items() if value is not None}
        for name, values in sections.items()
    }
    return load_settings(None, **{name: values for name, values in overrides.items() if values})


def table(header: list[str], rows: list[list[Any]]) -> None:
    """Print ``rows`` under ``header`` in columns two spaces apart."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
