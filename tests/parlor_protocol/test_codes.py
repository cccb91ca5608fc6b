"""Every error code the backend sends and every one the frontend words is an ErrorCode; disconnect reasons are
DisconnectReason members, never free strings. Read from the source, so a new code cannot skip the package."""

from __future__ import annotations

import ast
from pathlib import Path

from backend.core import errors
from frontend.api import FIELD_CODES, FRIENDLY
from frontend.i18n import ERRORS_FR
from parlor_protocol import DisconnectReason, ErrorCode, FrameType

ROOT = Path(__file__).resolve().parents[2]
ERROR_CLASSES = {name for name, obj in vars(errors).items() if isinstance(obj, type) and issubclass(obj, Exception)}
FRONTEND_ONLY = {"network"}  # the Streamlit server could not reach the backend: no server says it


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f"invalid_{field_name}": checked through the names it is made from
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def backend_error_codes() -> dict[str, str]:
    """{code: where} for every code the backend raises (an error class's second argument, `code=`), sets as a
    class default, or answers in an error body's `"code"`."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "backend").rglob("*.py")):
        tree = ast.parse(path.read_text())
        where = str(path.relative_to(ROOT))
        for call in _calls(tree):
            name = _name(call)
            args = [a for a in call.args[1:2] if name in ERROR_CLASSES or name == "_Abuse"]
            args = call.args[:1] if name == "_Abuse" else args
            args += [k.value for k in call.keywords if k.arg == "code"]
            for arg in args:
                if (text := _literal(arg)) is not None:
                    found[text] = f"{where}:{call.lineno}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "code" and (text := _literal(value)):
                        found[text] = f"{where}:{node.lineno}"
            if isinstance(node, ast.ClassDef) and node.name in ERROR_CLASSES:
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(getattr(t, "id", "") == "code" for t in item.targets):
                        found[str(ast.literal_eval(item.value))] = f"{where}:{item.lineno}"
    return found


def test_every_error_code_the_backend_sends_is_an_error_code() -> None:
    """No code raised or answered anywhere in backend/ is missing from ErrorCode (f-strings: each field's)."""
    codes = backend_error_codes()
    assert len(codes) > 30, "the scan found almost nothing: has the error hierarchy moved?"
    expanded = set()
    for code in codes:
        expanded |= {code.replace("{}", f) for f in ("name", "clue", "guess")} if "{}" in code else {code}
    missing = {code: codes.get(code, codes.get("invalid_{}")) for code in expanded - {e.value for e in ErrorCode}}
    assert not missing, missing


def test_every_error_code_the_frontend_words_is_an_error_code() -> None:
    """The English and French sentences and the field mapping name only codes a server sends."""
    worded = set(FRIENDLY) | set(ERRORS_FR) | set(FIELD_CODES.values())
    assert worded - FRONTEND_ONLY <= {e.value for e in ErrorCode}, sorted(worded - FRONTEND_ONLY - set(ErrorCode))


def test_no_disconnect_reason_is_a_free_string() -> None:
    """A reason handed to request_close / close_all / close_room_sockets or set on a connection comes from
    DisconnectReason."""
    free = []
    for path in sorted((ROOT / "backend").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for call in _calls(tree):
            name = _name(call)
            arg = None
            if name == "request_close" and len(call.args) >= 3:
                arg = call.args[2]
            elif name == "close_room_sockets" and len(call.args) >= 4:
                arg = call.args[3]
            arg = next((k.value for k in call.keywords if k.arg == "disconnect_reason"), arg)
            if arg is not None and _literal(arg) is not None:
                free.append(f"{path.name}:{call.lineno}")
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(getattr(t, "attr", "") == "disconnect_reason" for t in targets) and _literal(node.value):
                free.append(f"{path.name}:{node.lineno}")
    assert not free, free
    assert len(DisconnectReason) == len({r.value for r in DisconnectReason})


def test_no_control_frame_type_is_a_free_string() -> None:
    """The server builds, sends, counts and compares control frames through FrameType, not string literals."""
    values = {t.value for t in FrameType}
    free = []
    for path in sorted((ROOT / "backend").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for call in _calls(tree):
            name = _name(call)
            args = {"frame": call.args[:1], "send": call.args[1:2], "labels": call.args[:1]}.get(name or "", [])
            if name == "labels" and "frames" not in ast.unparse(call.func):
                args = []
            free += [f"{path.name}:{call.lineno}" for arg in args if _literal(arg) in values]
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and ("type" in (left := ast.unparse(node.left)) or left == "kind"):
                free += [f"{path.name}:{node.lineno}" for c in node.comparators if _literal(c) in values]
    assert not free, free
