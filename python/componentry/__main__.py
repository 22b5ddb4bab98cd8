"""``python -m componentry stubs app.wasm > app.pyi``."""

import sys

from .stubs import main

sys.exit(main(sys.argv[1:]))
