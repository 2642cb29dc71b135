"""Records every outbound connection attempt of a command and all its children, at the operating-system level.

``strace -f`` follows every fork, clone and exec, so a forked telemetry sender, a Spark JVM or a Python worker is
watched like the command itself; it records the ``connect`` system call whether or not it succeeds. Used by the
egress test, which runs the package as a user does: ``CI`` and every opt-out variable unset, a fresh ``HOME``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Variables that switch telemetry, the hub or CI behaviour off in some library. The egress test must pass
# without any of them, as on a user's machine.
OPT_OUT_VARIABLES = (
    "CI", "TF_BUILD", "JENKINS_URL", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI", "TRAVIS",
    "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "MEDEMBED_RAG_OFFLINE",
    "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK", "ANONYMIZED_TELEMETRY", "NNCF_CI", "NNCF_DEV",
    "MEDEMBED_RAG_CACHE", "MEDEMBED_RAG_LLM_URL", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
    "TOKENIZERS_PARALLELISM", "PYTEST_CURRENT_TEST", "PYTEST_VERSION",
)

_CONNECT = re.compile(r"^(?P<pid>\d+)\s+connect\(\d+, \{sa_family=(?P<family>AF_INET6?),(?P<rest>.*)$")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_ADDR4 = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
_ADDR6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')


@dataclass(frozen=True)
class Attempt:
    pid: int
    address: str
    port: int
    line: str

    @property
    def leaves_machine(self) -> bool:
        """Not loopback, or a DNS query (a name lookup is the first step out, even via a local resolver)."""
        address = ipaddress.ip_address(self.address)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return not address.is_loopback or self.port == 53


def user_environment(home: Path) -> dict[str, str]:
    """The test process's environment as a user's shell would have it: no opt-outs, ``HOME`` at ``home``."""
    env = {k: v for k, v in os.environ.items() if k not in OPT_OUT_VARIABLES}
    env["HOME"] = str(home)
    return env


def strace_path() -> str | None:
    return shutil.which("strace")


def traced_run(args: list[str], *, env: dict, cwd: Path, log: Path, timeout: float = 900):
    """Runs ``args`` under ``strace -f`` recording connect calls to ``log``; returns the CompletedProcess."""
    command = [strace_path(), "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect", "-o", str(log), *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def attempts(log: Path) -> list[Attempt]:
    """Every AF_INET/AF_INET6 connect recorded in ``log``."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        match = _CONNECT.match(line)
        if not match:
            continue
        rest = match["rest"]
        address = _ADDR4.search(rest) if match["family"] == "AF_INET" else _ADDR6.search(rest)
        port = _PORT.search(rest)
        if address and port:
            found.append(Attempt(int(match["pid"]), address[1], int(port[1]), line.strip()))
    return found
