"""The layers' import rules, read from the source: the application layer holds use cases, not SQL or ORM rows."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "photosift"
ORM_MODULES = {"photosift.catalog.models", "photosift.catalog.rekognition", "photosift.catalog.base"}
ORM_CONSTANTS = {"PhotoStatus", "JobStatus", "new_id", "utcnow", "vector_to_bytes", "bytes_to_vector",
                 "VECTOR_DTYPE", "RETIRED_RECOGNIZER"}


def _imports(path: Path) -> list[tuple[str, str]]:
    """``(module, name)`` of every import in ``path`` (``name`` empty for ``import module``)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def _offences(folder: str, rule) -> list[str]:  # noqa: ANN001 - a predicate of (module, name)
    return [f"{path.relative_to(PACKAGE)}: {module} {name}".strip()
            for path in sorted((PACKAGE / folder).rglob("*.py"))
            for module, name in _imports(path) if rule(module, name)]


def _sql_or_orm(module: str, name: str) -> bool:
    return module.split(".")[0] == "sqlalchemy" or (module in ORM_MODULES and name not in ORM_CONSTANTS)


def test_no_sql_or_orm_rows_in_the_application_layer() -> None:
    """Use cases reach the catalog through its repository modules (``photosift.catalog.<entity>``) and see
    ``records`` dataclasses, not SQL or ORM classes (the models' constants are fine)."""
    assert _offences("application", _sql_or_orm) == []


def test_no_engine_in_the_api_layer() -> None:
    """Routes and the Rekognition adapter reach the face engine only through the application layer."""
    engine = ("photosift.faces", "photosift.blur", "photosift.imaging", "photosift.analysis")
    assert _offences("api", lambda module, name: module.startswith(engine)
                     or (module == "photosift" and name in {"faces", "blur", "imaging", "analysis"})) == []
