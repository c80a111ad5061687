"""`giponext-conformance steps`: the catalogue of Gherkin steps for scenario writers."""

from __future__ import annotations

import json
import sys

from giponext_conformance.errors import UsageError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "steps",
        help="list every Gherkin step with its parameters and an example",
        description=(
            "List the steps a feature file can use: Gherkin keyword, text pattern, "
            "parameters, an example line and what each step module is for."
        ),
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="output format (default: text)",
    )
    parser.add_argument(
        "--module",
        metavar="NAME",
        action="append",
        help="import this extra step module too, e.g. my_project.steps; repeatable",
    )
    parser.add_argument(
        "--grep",
        metavar="TEXT",
        help="list only steps whose pattern contains TEXT (case-insensitive)",
    )
    parser.set_defaults(handler=run_steps)


def run_steps(args) -> int:
    # The catalogue imports pytest-bdd and pytest, which takes a few tenths
    # of a second, so it is loaded only when steps are listed.
    from giponext_conformance.stepcatalogue import (
        collect_steps,
        render_markdown,
        render_text,
    )

    module_names = None
    if args.module:
        from giponext_conformance.stepcatalogue import step_module_names

        module_names = step_module_names() + list(args.module)
    try:
        entries = collect_steps(module_names)
    except ModuleNotFoundError as error:
        raise UsageError(
            f"module {error.name!r} was not found while importing the step modules; "
            "check the --module names."
        ) from None

    if args.grep:
        needle = args.grep.lower()
        entries = [entry for entry in entries if needle in entry.pattern.lower()]

    if args.format == "json":
        json.dump([entry.as_dict() for entry in entries], sys.stdout, indent=2)
        print()
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(entries))
    else:
        sys.stdout.write(render_text(entries))
    if not entries:
        print("No step matches.", file=sys.stderr)
    return 0
