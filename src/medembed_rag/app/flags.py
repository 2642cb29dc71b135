"""The command line's encoder flags, built from the one declaration of the encoder's options
(:class:`~medembed_rag.models.options.EncoderOptions`: each option's ``cli`` flag, its type, default and doc)."""

from __future__ import annotations

import argparse
import typing
from typing import Any, get_args

from ..models.options import EncoderOptions, option_fields


def add_encoder_flags(parser: argparse.ArgumentParser, *, skip: tuple[str, ...] = ()) -> None:
    """Adds ``--model``, ``--precision``, ... (every option with a ``cli`` flag) and ``--quiet`` to ``parser``."""
    hints = typing.get_type_hints(EncoderOptions)
    for option in option_fields():
        flag = option.metadata["cli"]
        if flag is None or option.name in skip:
            continue
        hint = hints[option.name]
        literal = typing.get_origin(hint) is typing.Literal
        kinds = [] if literal else [k for k in get_args(hint) if k is not type(None)] or [hint]
        choices = get_args(hint) if literal else None
        kind = int if int in kinds else str
        default = " (default: %(default)s)" if option.default is not None else ""
        parser.add_argument(flag, dest=option.name, default=option.default, type=None if choices else kind,
                            choices=choices, help=option.metadata["doc"].replace("%", "%%") + default)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def encoder_options(args: argparse.Namespace) -> EncoderOptions:
    """The :class:`EncoderOptions` the parsed flags describe (options without a flag keep their defaults)."""
    values: dict[str, Any] = {o.name: getattr(args, o.name) for o in option_fields() if hasattr(args, o.name)}
    if getattr(args, "quiet", False):
        values["show_progress"] = False
    return EncoderOptions(**values)
