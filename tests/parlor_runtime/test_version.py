"""parlor_runtime.version: the installed distribution's version, or an unmistakable fallback without one."""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from parlor_runtime import version as version_module

PEP440 = re.compile(r"^\d+(\.\d+)*([abc]|rc)?\d*(\.post\d+)?(\.dev\d+)?(\+[a-z0-9.]+)?$")


def test_version_is_the_installed_distributions_or_the_fallback() -> None:
    """VERSION equals importlib.metadata's answer for `parlor` when installed, else FALLBACK_VERSION."""
    try:
        expected = importlib.metadata.version("parlor")
    except importlib.metadata.PackageNotFoundError:
        expected = version_module.FALLBACK_VERSION
    assert expected == version_module.VERSION
    assert PEP440.match(version_module.VERSION), version_module.VERSION


def test_fallback_when_the_package_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without metadata (a bare checkout), the version is the PEP 440 local version 0+unknown."""
    monkeypatch.setattr(version_module, "DISTRIBUTION", "parlor-not-installed-anywhere")
    assert version_module._installed_version() == "0+unknown"
    assert PEP440.match(version_module.FALLBACK_VERSION)
