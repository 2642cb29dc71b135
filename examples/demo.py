"""The main job as a script: ``python examples/demo.py [--question "..."]`` (same as ``medembed-rag demo``)."""

import sys

from medembed_rag.app.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
