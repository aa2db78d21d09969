"""Run the import contracts of pyproject.toml, and rebuild them over a throwaway package tree.

The sandbox renames the project's root packages (``canvasdoc`` -> ``sandbox_canvasdoc``) in
every module field of the real contracts, so a planted bad import there shows that the real
contract, unchanged apart from the names, catches it. The renamed roots cannot clash with the
installed project on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
SANDBOX_PREFIX = "sandbox_"
# Contract fields that are words for people, not module expressions: kept as written, so the
# sandbox report names the real contract.
_TEXT_FIELDS = frozenset({"id", "name", "type", "broken_contract_guidance"})
_RESULT_LINE = re.compile(r"^(?P<name>.+) (?P<verdict>KEPT|BROKEN)$")

Contract = dict[str, Any]


def read_config(path: Path = PYPROJECT) -> dict[str, Any]:
    """The ``[tool.importlinter]`` table of ``path``."""
    with path.open("rb") as f:
        config: dict[str, Any] = tomllib.load(f)["tool"]["importlinter"]
    return config


def contract_label(contract: Contract) -> str:
    return str(contract.get("id") or contract["name"])


@dataclass(frozen=True)
class LintResult:
    returncode: int
    output: str

    def verdicts(self) -> dict[str, str]:
        """Contract name -> ``"KEPT"`` or ``"BROKEN"``, from the report's summary lines."""
        found: dict[str, str] = {}
        for line in self.output.splitlines():
            match = _RESULT_LINE.match(line.strip())
            if match:
                found[match["name"]] = match["verdict"]
        return found


def lint_imports(config: Path, *, cwd: Path, pythonpath: Path | None = None) -> LintResult:
    """Run import-linter with this interpreter (so the venv's copy) on ``config``."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(pythonpath), env.get("PYTHONPATH", "")) if p
        )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--no-cache",
            "--no-logo",
            str(config),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return LintResult(result.returncode, result.stdout + result.stderr)


class Sandbox:
    """A package tree under ``src`` with the real contracts renamed onto it."""

    def __init__(self, base: Path, config: dict[str, Any]) -> None:
        self.src = base / "src"
        self.config_path = base / "importlinter.toml"
        self.roots: list[str] = list(config["root_packages"])
        self._root_pattern = re.compile(
            r"(?<![\w.])(" + "|".join(map(re.escape, self.roots)) + r")(?![\w])"
        )
        self.contracts: list[Contract] = [self._rename(c) for c in config["contracts"]]
        options = {k: v for k, v in config.items() if k != "contracts"}
        self._options: dict[str, Any] = self._rename(options)

    def build(self) -> None:
        """Write the config and one empty package for every project module the contracts name."""
        self.src.mkdir()
        for module in sorted(self._project_modules()):
            self._package(module)
        self.config_path.write_text(self._toml())

    def plant_violation(self, contract: Contract) -> None:
        """Add the smallest import that breaks ``contract`` (an entry of :attr:`contracts`)."""
        kind = contract["type"]
        if kind == "forbidden":
            # Into __init__ itself, so it counts whether or not the contract reads as_packages.
            source, forbidden = contract["source_modules"][0], contract["forbidden_modules"][0]
            init = self._package(source) / "__init__.py"
            init.write_text(init.read_text() + f"import {forbidden}\n")
        elif kind == "acyclic_siblings":
            package = self._package(contract["ancestors"][0])
            name = contract["ancestors"][0]
            (package / "_cycle_a.py").write_text(f"import {name}._cycle_b\n")
            (package / "_cycle_b.py").write_text(f"import {name}._cycle_a\n")
        else:
            raise NotImplementedError(
                f"no planted violation for contract type {kind!r}: add one to "
                "tests/support/import_rules.py so the test proves the contract can fail"
            )

    def run(self) -> LintResult:
        return lint_imports(self.config_path, cwd=self.config_path.parent, pythonpath=self.src)

    def _rename(self, value: Any, key: str = "") -> Any:
        if key in _TEXT_FIELDS:
            return value
        if isinstance(value, str):
            return self._root_pattern.sub(SANDBOX_PREFIX + r"\1", value)
        if isinstance(value, list):
            return [self._rename(v) for v in value]
        if isinstance(value, dict):
            return {k: self._rename(v, k) for k, v in value.items()}
        return value

    def _project_modules(self) -> set[str]:
        words = re.findall(r"[\w.*]+", json.dumps([self._options, self.contracts]))
        sandboxed = {SANDBOX_PREFIX + root for root in self.roots}
        modules = {w for w in words if w.split(".")[0] in sandboxed}
        wildcards = sorted(m for m in modules if "*" in m)
        if wildcards:
            raise NotImplementedError(f"the sandbox has no packages for wildcards: {wildcards}")
        return modules

    def _package(self, module: str) -> Path:
        path = self.src
        for part in module.split("."):
            path = path / part
            path.mkdir(exist_ok=True)
            init = path / "__init__.py"
            if not init.exists():
                init.write_text("")
        return path

    def _toml(self) -> str:
        # JSON strings, arrays of strings, booleans and integers are valid TOML values.
        lines = ["[tool.importlinter]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in self._options.items()]
        for contract in self.contracts:
            lines += ["", "[[tool.importlinter.contracts]]"]
            lines += [f"{k} = {json.dumps(v)}" for k, v in contract.items()]
        return "\n".join(lines) + "\n"
