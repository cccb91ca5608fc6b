"""The frontend's settings: every one is documented in the README's tables."""

from __future__ import annotations

from frontend.config import FrontendSettings
from launchers.process import ROOT


def test_every_frontend_setting_is_in_a_readme_table() -> None:
    """Each FrontendSettings field appears, upper-cased, as a row of a README table."""
    readme = (ROOT / "README.md").read_text()
    missing = [name.upper() for name in FrontendSettings.model_fields if f"| `{name.upper()}` |" not in readme]
    assert not missing, missing
