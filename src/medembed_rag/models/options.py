"""The encoder's options, declared once.

:class:`EncoderOptions` is the one place an option is named, typed, given its default, checked and documented.
Everything else is built from it: :class:`~medembed_rag.models.encoder.MedEmbedEncoder`'s arguments, the
LangChain and LlamaIndex embedding classes' fields (:mod:`medembed_rag.integrations._options`), the Spark
stage's params and the command line's flags. Adding an option here adds it to every face.

Each field's ``metadata`` holds its ``doc`` (the text every face shows) and where it appears under another
name: ``face`` (the framework faces' field name, following the Hugging Face embedding classes' names),
``spark`` (the Spark param; ``None``: not one) and ``cli`` (the flag; ``None``: not a flag; the command line
reads no calibration texts and draws its bars unless ``--quiet``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ..errors import InvalidInputError, InvalidInputTypeError
from .registry import DEFAULT_MODEL

Precision = Literal["auto", "fp32", "bf16", "int8"]
Truncation = Literal["warn", "error", "silent"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
TRUNCATIONS: tuple[str, ...] = get_args(Truncation)

PRECISION_DOC = (
    "'auto' (the faster of fp32 and bf16 on this CPU, measured once and cached; bf16 only where its vectors match "
    "fp32's), 'fp32' (exact), 'bf16' (forced), or 'int8' (static NNCF quantisation; its float layers as 'auto')."
)
TRUNCATION_DOC = (
    "Inputs longer than max_length: 'warn' (cut them and warn once per call with their count), 'error' (raise "
    "InputTooLongError), or 'silent'."
)


def precision_family(precision: str) -> str:
    """``int8`` or ``float``: precisions of one family give vectors that may share an index (auto, fp32, bf16)."""
    return "int8" if precision == "int8" else "float"


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """Raises :class:`InvalidInputError` naming the valid values when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise InvalidInputError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def check_positive_int(name: str, value: Any, *, minimum: int = 1, optional: bool = False) -> None:
    """Raises :class:`InvalidInputError` unless ``value`` is an int >= ``minimum`` (or None when optional)."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise InvalidInputError(f"{name} must be {what}{' or None' if optional else ''}; got {value!r}")


def _option(default: Any, doc: str, *, face: str | None = None, spark: str | None, cli: str | None) -> Any:
    return field(default=default, metadata={"doc": doc, "face": face, "spark": spark, "cli": cli})


@dataclass(frozen=True)
class EncoderOptions:
    """How to run one embedding model (see the module docstring). Construction checks every value."""

    model: str = _option(DEFAULT_MODEL, "Hub id of a registered model (pinned to a revision), or a local model "
                         "folder (a BERT-family checkpoint, optionally with sentence-transformers files).",
                         face="model_name", spark="model", cli="--model")
    revision: str | None = _option(None, "Hub commit to load; default: the registry's pinned revision (an "
                                   "unregistered hub model without one loads 'main' with a warning).",
                                   spark="revision", cli="--revision")
    precision: Precision = _option("auto", PRECISION_DOC, spark="precision", cli="--precision")
    max_length: int | None = _option(None, "Most tokens per input, special tokens included; default and upper "
                                     "bound: the model's own limit.", spark="maxLength", cli="--max-length")
    batch_size: int = _option(32, "Inputs per forward pass (sorted by length first, under a token budget).",
                              spark="batchSize", cli="--batch-size")
    cache_dir: str | None = _option(None, "Where exported OpenVINO models are kept; default: $MEDEMBED_RAG_CACHE "
                                    "or ~/.cache/medembed-rag.", spark="cacheDir", cli="--cache-dir")
    show_progress: bool | None = _option(None, "Show a progress bar; None: only for runs that take more than about "
                                         "a second. (Not a Spark param: executors draw no bars.)", spark=None, cli=None)
    truncation: Truncation = _option("warn", TRUNCATION_DOC, spark="truncation", cli="--truncation")
    num_threads: int | None = _option(None, "CPU threads OpenVINO may use; default: all cores. Setting it also "
                                      "stops OpenVINO pinning threads to cores, so processes sharing a machine "
                                      "spread out.", spark="threadsPerTask", cli="--num-threads")
    query_prefix: str | None = _option(None, "Text put before every query, replacing the model's own query "
                                       "prompt (MedEmbed has none). Part of the fingerprint.",
                                       face="query_instruction", spark="queryPrefix", cli="--query-prefix")
    document_prefix: str | None = _option(None, "Text put before every document, replacing the model's own "
                                          "document prompt. Part of the fingerprint.",
                                          face="text_instruction", spark="documentPrefix", cli="--document-prefix")
    calibration_texts: tuple[str, ...] | None = _option(None, "Texts to calibrate int8 with; default: built-in "
                                                        "medical sentences.", spark="calibrationTexts", cli=None)

    def __post_init__(self) -> None:
        model = os.fspath(self.model) if isinstance(self.model, os.PathLike) else self.model
        if not isinstance(model, str) or not model.strip():
            raise InvalidInputError(f"model must be a hub id or a folder path, got {self.model!r}")
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("truncation", self.truncation, TRUNCATIONS)
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("max_length", self.max_length, minimum=8, optional=True)
        check_positive_int("num_threads", self.num_threads, optional=True)
        for name in ("revision", "query_prefix", "document_prefix", "cache_dir"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike) and name == "cache_dir":
                object.__setattr__(self, name, os.fspath(value))
            elif value is not None and not isinstance(value, str):
                raise InvalidInputTypeError(f"{name} must be a string or None; got {type(value).__name__}")
        if self.calibration_texts is not None:
            from ..inputs import validate_texts

            texts = tuple(validate_texts(self.calibration_texts, what="calibration text")) or None
            object.__setattr__(self, "calibration_texts", texts)

    def replace(self, **changes: Any) -> EncoderOptions:
        """A copy with ``changes`` applied (checked again)."""
        return dataclasses.replace(self, **changes)

    def explicit(self) -> dict[str, Any]:
        """The model and the options that differ from their defaults, as plain values (a compact config)."""
        defaults = EncoderOptions()
        return {k: v for k, v in self.to_dict().items() if k == "model" or v != defaults.to_dict()[k]}

    def to_dict(self) -> dict[str, Any]:
        """The options as plain values (safe to serialise; ``calibration_texts`` as a list)."""
        out = dataclasses.asdict(self)
        if out["calibration_texts"] is not None:
            out["calibration_texts"] = list(out["calibration_texts"])
        return out


def option_fields() -> tuple[dataclasses.Field, ...]:
    """The declared options, in order (each with ``metadata['doc' | 'face' | 'spark' | 'cli']``)."""
    return dataclasses.fields(EncoderOptions)


def face_name(option: dataclasses.Field) -> str:
    """The field name an option has on the LangChain and LlamaIndex embedding classes."""
    return option.metadata["face"] or option.name
