"""Step catalogue: every Gherkin step the step library offers, for scenario writers.

The catalogue imports each module of `giponext_conformance.steps` (and any
extra modules named by the caller), then reads pytest-bdd's registry of step
definitions. For each step it reports the Gherkin type, the text pattern, the
parameters with their types, an example line and the docstring of the module
that defines it, so a QA team can write feature files without reading Python.

The example is, in order of preference: the line after "Example:" in the
step function's docstring; the first line of a bundled feature file that the
step matches (with an outline's placeholders filled from its first Examples
row); or the pattern with each parameter filled by a sample value of its type.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from gherkin.parser import Parser
from pytest_bdd import parsers
from pytest_bdd.steps import StepFunctionContext, step_function_context_registry

STEPS_PACKAGE = "giponext_conformance.steps"

# parse-style fields: {name} or {name:format}. Doubled braces are literal text.
_FIELD_PATTERN = re.compile(
    r"(?<!\{)\{(?P<name>[A-Za-z_]\w*)?(?::(?P<format>[^{}]*))?\}(?!\})"
)

# Type names of the `parse` library's format specifications that steps use.
_FORMAT_TYPES = {
    "d": "integer",
    "n": "integer",
    "f": "decimal",
    "F": "decimal",
    "g": "decimal",
    "w": "word",
    "W": "non-letters",
    "S": "non-blank text",
    "": "text",
}

_SAMPLE_VALUES = {
    "integer": "1",
    "decimal": "1.5",
    "word": "example",
    "non-letters": "123",
    "non-blank text": "example",
    "text": "example",
}

_EXAMPLE_PREFIX = "Example:"


@dataclass(frozen=True)
class StepParameter:
    """A value a step takes from its text."""

    name: str
    type: str


@dataclass(frozen=True)
class StepEntry:
    """One step definition of the library."""

    keyword: str
    pattern: str
    parser: str
    parameters: tuple[StepParameter, ...]
    example: str
    summary: str
    module: str
    module_doc: str
    target_fixture: str | None

    def as_dict(self) -> dict:
        entry = asdict(self)
        entry["parameters"] = [asdict(parameter) for parameter in self.parameters]
        return entry


def step_module_names(package: str = STEPS_PACKAGE) -> list[str]:
    """Return the names of every module in the step package, sorted."""
    root = importlib.import_module(package)
    names = [package]
    search_path = getattr(root, "__path__", None)
    if search_path is not None:
        for info in pkgutil.walk_packages(search_path, prefix=f"{package}."):
            names.append(info.name)
    return sorted(names)


def collect_steps(
    module_names: list[str] | None = None, feature_dirs: list[Path] | None = None
) -> list[StepEntry]:
    """Import the step modules and return their steps, by module and source line.

    Feature files under feature_dirs (default: the bundled features) supply
    examples for steps whose docstring gives none.
    """
    module_names = module_names if module_names is not None else step_module_names()
    modules = {name: importlib.import_module(name) for name in module_names}
    usages = feature_step_lines(feature_dirs)

    entries = []
    for context in list(step_function_context_registry.values()):
        module_name = getattr(context.step_func, "__module__", None)
        if module_name in modules:
            entries.append((module_name, _source_line(context.step_func), context))

    entries.sort(key=lambda item: (item[0], item[1]))
    return [
        _entry(context, modules[module_name], usages)
        for module_name, _, context in entries
    ]


def feature_step_lines(directories: list[Path] | None = None) -> list[tuple[str, str]]:
    """Return (step type, text) for every step line of the feature files.

    Steps of a Scenario Outline are filled from the first row of its first
    Examples table. "And" and "But" take the type of the step before them.
    """
    from giponext_conformance.coverage import default_feature_dirs, find_feature_files

    lines = []
    for path in find_feature_files(directories or default_feature_dirs()):
        document = Parser().parse(path.read_text("utf-8"))
        for scenario in _scenarios(document.get("feature") or {}):
            values = _first_example_row(scenario)
            step_type = "given"
            for step in scenario.get("steps", []):
                step_type = _KEYWORD_TYPES.get(step.get("keywordType"), step_type)
                lines.append((step_type, _fill_placeholders(step["text"], values)))
    return lines


_KEYWORD_TYPES = {"Context": "given", "Action": "when", "Outcome": "then"}
_PLACEHOLDER = re.compile(r"<([^<>]+)>")


def _fill_placeholders(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(
        lambda match: values.get(match.group(1), match.group(0)), text
    )


def _scenarios(feature: dict):
    for child in feature.get("children", []):
        if "background" in child:
            yield child["background"]
        elif "scenario" in child:
            yield child["scenario"]
        elif "rule" in child:
            yield from _scenarios(child["rule"])


def _first_example_row(scenario: dict) -> dict[str, str]:
    for table in scenario.get("examples", []):
        header = table.get("tableHeader")
        body = table.get("tableBody") or []
        if header and body:
            names = [cell["value"] for cell in header["cells"]]
            return dict(
                zip(names, (cell["value"] for cell in body[0]["cells"]), strict=False)
            )
    return {}


def _used_example(context: StepFunctionContext, usages) -> str:
    for step_type, text in usages:
        if context.type not in (None, step_type):
            continue
        if _PLACEHOLDER.search(text):
            continue
        if context.parser.is_matching(text):
            return f"{step_type.capitalize()} {text}"
    return ""


def _source_line(function) -> int:
    code = getattr(function, "__code__", None)
    return code.co_firstlineno if code else 0


def _entry(context: StepFunctionContext, module, usages) -> StepEntry:
    parameters = tuple(_parameters(context))
    summary, example = _function_doc(context.step_func)
    example = example or _used_example(context, usages)
    keyword = (context.type or "step").capitalize()
    return StepEntry(
        keyword=keyword,
        pattern=context.parser.name,
        parser=type(context.parser).__name__,
        parameters=parameters,
        example=example or _synthesise_example(keyword, context, parameters),
        summary=summary,
        module=module.__name__,
        module_doc=inspect.cleandoc(module.__doc__ or ""),
        target_fixture=context.target_fixture,
    )


def _parameters(context: StepFunctionContext) -> list[StepParameter]:
    parser = context.parser
    converters = context.converters or {}
    if isinstance(parser, parsers.re):
        names = list(parser.regex.groupindex)
        return [
            StepParameter(name, _converter_type(converters.get(name), "text"))
            for name in names
        ]
    if isinstance(parser, parsers.parse):
        parameters = []
        for match in _FIELD_PATTERN.finditer(parser.name):
            name = match.group("name")
            if not name:
                continue
            fallback = _FORMAT_TYPES.get(match.group("format") or "", "text")
            parameters.append(
                StepParameter(name, _converter_type(converters.get(name), fallback))
            )
        return parameters
    return []


def _converter_type(converter, fallback: str) -> str:
    if converter is None:
        return fallback
    return {int: "integer", float: "decimal", str: "text"}.get(
        converter, getattr(converter, "__name__", fallback)
    )


def _function_doc(function) -> tuple[str, str]:
    """Return the first docstring line and the text after "Example:", if any."""
    doc = inspect.cleandoc(function.__doc__ or "")
    lines = doc.splitlines()
    summary = lines[0] if lines else ""
    example = ""
    for line in lines:
        if line.strip().startswith(_EXAMPLE_PREFIX):
            example = line.strip()[len(_EXAMPLE_PREFIX) :].strip()
            break
    return summary, example


def _synthesise_example(keyword: str, context: StepFunctionContext, parameters) -> str:
    parser = context.parser
    if isinstance(parser, parsers.parse):
        samples = {
            parameter.name: _SAMPLE_VALUES.get(parameter.type, "example")
            for parameter in parameters
        }

        def fill(match: re.Match) -> str:
            return samples.get(match.group("name") or "", "example")

        text = (
            _FIELD_PATTERN.sub(fill, parser.name).replace("{{", "{").replace("}}", "}")
        )
        return f"{keyword} {text}"
    if isinstance(parser, parsers.re):
        # A regular expression has no single natural example, so the pattern is shown.
        return f"{keyword} {parser.name}  (regular expression)"
    return f"{keyword} {parser.name}"


def render_text(entries: list[StepEntry]) -> str:
    """Render the catalogue as plain text grouped by module."""
    lines = []
    current_module = None
    for entry in entries:
        if entry.module != current_module:
            current_module = entry.module
            lines += ["", f"== {entry.module}"]
            if entry.module_doc:
                lines += [
                    f"   {line}" if line else ""
                    for line in entry.module_doc.splitlines()
                ]
            lines.append("")
        lines.append(f"{entry.keyword} {entry.pattern}")
        if entry.summary:
            lines.append(f"    {entry.summary}")
        if entry.parameters:
            described = ", ".join(f"{p.name} ({p.type})" for p in entry.parameters)
            lines.append(f"    parameters: {described}")
        lines.append(f"    example:    {entry.example}")
    return "\n".join(lines).lstrip("\n") + "\n"


def render_markdown(entries: list[StepEntry]) -> str:
    """Render the catalogue as Markdown, one section per module."""
    lines = ["# Step catalogue", ""]
    current_module = None
    for entry in entries:
        if entry.module != current_module:
            current_module = entry.module
            lines += [f"## `{entry.module}`", ""]
            if entry.module_doc:
                lines += [entry.module_doc, ""]
        lines.append(f"- **{entry.keyword}** `{entry.pattern}`")
        if entry.summary:
            lines.append(f"  {entry.summary}")
        if entry.parameters:
            described = ", ".join(f"`{p.name}` ({p.type})" for p in entry.parameters)
            lines.append(f"  Parameters: {described}.")
        lines.append(f"  Example: `{entry.example}`")
        lines.append("")
    return "\n".join(lines)
