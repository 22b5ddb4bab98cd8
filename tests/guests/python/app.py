# A WASI 0.2 command written in Python, made a component by componentize-py
# (tools/python-guest.sh): prints a greeting with its arguments, the value of
# GREETING, and the lines of stdin upper-cased.
import os
import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print("Hello from Python!", sys.argv[1:])
        print("GREETING =", os.environ.get("GREETING"))
        for line in sys.stdin:
            print(line.rstrip("\n").upper())
