"""Switches off the usage telemetry of the libraries medembed-rag runs on, in this process and its children.

medembed-rag sends nothing anywhere. Several of its dependencies would: OpenVINO's conversion tools (imported by
``import openvino``) and NNCF report usage to Google Analytics from a forked child process, skipping it only when
a CI variable is set; Chroma and the Hugging Face hub client have opt-outs of their own. Importing
``medembed_rag`` applies :func:`disable_library_telemetry`, which does this without writing any opt-out file in
the user's home folder:

* **OpenVINO and NNCF** (one shared ``openvino_telemetry`` singleton): consent is declined in-process, so no
  event is sent, no client id is written to ``~/intel`` and no child process is forked; an instance created
  before medembed-rag was imported (``import openvino`` first) has its consent withdrawn too, and its sender
  no longer sends.
* **Chroma**: ``ANONYMIZED_TELEMETRY=False`` (every client this package creates also passes
  ``anonymized_telemetry=False``).
* **Hugging Face hub**: ``HF_HUB_DISABLE_TELEMETRY=1``.
* **Haystack** (when its face is used): ``HAYSTACK_TELEMETRY_ENABLED=False`` (it would otherwise send pipeline
  events and write a user id to ``~/.haystack``).

The variables are set in ``os.environ``, so worker processes started afterwards (Spark's Python workers,
``multiprocessing``) inherit them; those workers import ``medembed_rag`` as well and apply the rest.
"""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger(__name__)

#: Environment variables set (overriding any value) when the package is imported.
TELEMETRY_ENV = {"ANONYMIZED_TELEMETRY": "False", "HF_HUB_DISABLE_TELEMETRY": "1", "HAYSTACK_TELEMETRY_ENABLED": "False"}


def _decline(*_args, **_kwargs):
    from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult

    return ConsentCheckResult.DECLINED


def _drop(*_args, **_kwargs) -> None:
    return None


def _silence_openvino_telemetry() -> bool:
    try:
        from openvino_telemetry.main import Telemetry
        from openvino_telemetry.utils.opt_in_checker import OptInChecker
        from openvino_telemetry.utils.sender import TelemetrySender
    except ImportError:  # not installed: nothing to switch off
        return False
    OptInChecker.check = _decline  # every later init() of the singleton declines
    TelemetrySender.send = _drop  # even an event sent with force_send goes nowhere
    # The singleton's metaclass keeps the instance in a name-mangled class attribute.
    existing = getattr(Telemetry, "_SingletonMetaClass__single_instance", None)
    if existing is not None:  # created before us (the user imported openvino first)
        existing.consent = False
    return True


def _silence_hf_hub() -> None:
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # imported before us: its constants were read already
        constants.HF_HUB_DISABLE_TELEMETRY = True


def disable_library_telemetry() -> None:
    """Switches off OpenVINO, NNCF, Chroma and Hugging Face hub telemetry (idempotent; see the module doc)."""
    os.environ.update(TELEMETRY_ENV)
    _silence_hf_hub()
    if _silence_openvino_telemetry():
        logger.debug("OpenVINO/NNCF telemetry declined in-process")
