"""The `openiop` console command.

Pure computational commands (scoring, reliable change, the weekly planner) run without
Django so that outside tools can call them quickly and without a database. Everything
else is a Django management command; `openiop audit verify` style sub-commands are
passed through unchanged and hyphenated names map to their underscored module names.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import import_module

# command name -> "module:function"; each function takes argv (without the command) and
# returns the process exit status.
PURE_COMMANDS: dict[str, str] = {
    "plan-week": "openiop.planner.cli:main",
    "score": "openiop.measures.cli:score_main",
    "rci": "openiop.measures.cli:rci_main",
    "cutoff": "openiop.measures.cli:cutoff_main",
    "not-on-track": "openiop.measures.not_on_track:main",
}


def _load(target: str) -> Callable[[list[str]], int]:
    module_name, func_name = target.split(":")
    func: Callable[[list[str]], int] = getattr(import_module(module_name), func_name)
    return func


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in PURE_COMMANDS:
        return _load(PURE_COMMANDS[args[0]])(args[1:])
    if args and args[0] == "serve":
        # Before the settings load: they refuse a production start without a key by raising,
        # and the operator should read what to set, not a traceback.
        from openiop.core.serving import preflight

        problems = preflight(os.environ)
        if problems:
            print("openiop serve refused to start:", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    from django.core.management import execute_from_command_line

    if args:
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["openiop", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
