"""docs/access.md shows the roles as the code grants them."""

from __future__ import annotations

from pathlib import Path

from sampan.access.roles import ROLES, expand

DOC = Path(__file__).parents[2] / "docs" / "access.md"


def test_the_documented_role_table_matches_the_code() -> None:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(
        "| permission | admin | privacy_officer | service_agent | store_staff | marketer "
        "| analyst | developer |"
    )
    header = [cell.strip() for cell in lines[start].strip("|").split("|")][1:]
    documented: dict[str, set[str]] = {role: set() for role in header}
    for line in lines[start + 2 :]:
        if not line.startswith("| `"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        permission = cells[0].strip("`")
        for role, cell in zip(header, cells[1:], strict=True):
            if cell == "✓":
                documented[role].add(permission)
    assert documented == {name: set(expand(role.permissions)) for name, role in ROLES.items()}
