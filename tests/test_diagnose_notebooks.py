"""The pitfall doctor raises no false alarm on the course's own generate() calls (notebooks 01-08).

The sweep itself rides along strict nbval (tests/doctor_sweep.py, installed by the root
conftest.py): one `doctor sweep` item after the last cell of each notebook it covers. These tests
check, without executing anything, that the sweep covers what it claims.
"""

import nbformat
import pytest

from course_tools.layout import notebook_number, notebook_paths
from tests import doctor_sweep


def test_the_sweep_covers_every_notebook_but_the_server_one():
    numbers = [notebook_number(path) for path in notebook_paths("en")]
    assert list(doctor_sweep.SWEPT) == [number for number in numbers if number != "09"]


def test_every_deliberate_mistake_names_code_cells_after_the_setup_cell():
    """A snippet names the cells that make the mistake: one, or several (03's exercise and its solution)."""
    for number, snippet, rules, reason in doctor_sweep.DELIBERATE:
        [path] = [path for path in notebook_paths("en") if notebook_number(path) == number]
        cells = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
        setup = next(index for index, source in enumerate(cells) if doctor_sweep.SETUP_CALL in source)
        matching = [index for index, source in enumerate(cells) if snippet in source]
        assert matching and min(matching) > setup, (number, snippet, reason)
        assert rules, (number, snippet)


def test_a_record_with_a_false_alarm_or_a_missed_mistake_fails_the_sweep():
    number, snippet, rules, _ = doctor_sweep.DELIBERATE[0]
    found = [{"cell": f"x = 1\n{snippet}", "rules": sorted(rules)}]
    doctor_sweep.require_sound(number, found)
    with pytest.raises(AssertionError, match="expected"):
        doctor_sweep.require_sound(number, [{"cell": snippet, "rules": []}])
    with pytest.raises(AssertionError, match="in the cell"):
        doctor_sweep.require_sound(number, [*found, {"cell": "other", "rules": ["right_padding"]}])
    with pytest.raises(AssertionError, match="no generate"):
        doctor_sweep.require_sound(number, [])
