"""The `rivet:plugin/handler` plugin (../wasi-plugin/wit/plugin.wit) in Python,
made into a component by componentize-py (build.sh): the same behaviour as the
Rust guest ../wasi-plugin, from a toolchain whose component bundles CPython.

Each call prints a line on stdout, appends the input to `log.txt` in the
preopened directory `.`, and answers with the number of lines in the log.
"""

from componentize_py_types import Err
from wit_world import exports

LOG = "log.txt"


class Handler(exports.Handler):
    def handle(self, input: str) -> str:
        print(f"plugin: handling {input!r}", flush=True)
        if not input:
            raise Err("empty input")
        try:
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(input + "\n")
            with open(LOG, encoding="utf-8") as log:
                return f"{len(log.read().splitlines())} lines"
        except OSError as error:
            raise Err(f"{LOG}: {error.strerror}")
