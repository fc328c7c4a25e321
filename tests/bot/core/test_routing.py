"""Each kind of event has its own table: a button is not a form, a form's action_id may
carry an argument, a reaction goes to the one reaction row; no adapter names a handler."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.router import ACTIONS, FORMS, REACTION, ROUTER

ADAPTERS = Path(__file__).parents[3] / "bot" / "adapters"


def test_a_forms_action_id_carries_its_argument_and_a_buttons_does_not() -> None:
    found = FORMS.get("pulse.details:12")
    assert found is not None and found[0].action_id == "pulse.details" and found[1] == "12"
    assert FORMS.get("pulse.details") is None, "this form is always about a pulse"
    new, argument = FORMS.get("challenge.form") or (None, "")
    assert new is not None and argument == ""
    assert ACTIONS.get("signup.join") is not None
    assert ACTIONS.get("signup.join:x") is None and ACTIONS.get("pulse.form") is None


def test_every_id_names_one_kind_only() -> None:
    buttons, forms = set(ACTIONS.ids()), set(FORMS.ids())
    assert not buttons & forms
    assert REACTION.action_id not in buttons | forms
    assert ROUTER.actions is ACTIONS and ROUTER.forms is FORMS and ROUTER.reaction_row is REACTION


def test_no_adapter_imports_a_handler() -> None:
    for path in ADAPTERS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n == "bot.handlers" or n.startswith("bot.handlers.") for n in names), (
                path
            )
