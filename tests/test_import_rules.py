"""The package boundaries of [tool.importlinter] in pyproject.toml hold, and the same contracts,
rebuilt over a throwaway package tree, fail on a planted bad import (so they are not vacuous)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.import_rules import (
    PYPROJECT,
    ROOT,
    Contract,
    Sandbox,
    contract_label,
    lint_imports,
    read_config,
)

CONFIG = read_config()
CONTRACTS: list[Contract] = CONFIG["contracts"]


def test_project_keeps_every_import_contract() -> None:
    result = lint_imports(PYPROJECT, cwd=ROOT)
    verdicts = result.verdicts()
    assert verdicts == {c["name"]: "KEPT" for c in CONTRACTS}, result.output
    assert result.returncode == 0, result.output


def test_sandbox_without_planted_imports_keeps_every_contract(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, CONFIG)
    sandbox.build()
    result = sandbox.run()
    assert result.returncode == 0, result.output
    assert result.verdicts() == {c["name"]: "KEPT" for c in CONTRACTS}, result.output


@pytest.mark.parametrize("index", range(len(CONTRACTS)), ids=[contract_label(c) for c in CONTRACTS])
def test_contract_catches_a_planted_violation(tmp_path: Path, index: int) -> None:
    sandbox = Sandbox(tmp_path, CONFIG)
    sandbox.build()
    sandbox.plant_violation(sandbox.contracts[index])
    result = sandbox.run()
    broken = CONTRACTS[index]["name"]
    assert result.returncode != 0, result.output
    assert result.verdicts() == {
        c["name"]: "BROKEN" if c["name"] == broken else "KEPT" for c in CONTRACTS
    }, result.output
