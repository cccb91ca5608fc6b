"""docs/deploy.md leads with Kubernetes for more than one machine, then compose, then the local two commands."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_doc_orders_kubernetes_compose_then_local() -> None:
    """Its first three sections are Kubernetes, compose and the README's two commands, and each overlay it names
    exists."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    headings = re.findall(r"^## (.+)$", text, re.M)[:3]
    assert [h.split(",")[0] for h in headings] == ["Kubernetes", "docker compose", "Locally"]
    assert "bash scripts/run.sh" in text and "bash scripts/test.sh" in text
    for overlay in re.findall(r"deploy/kubernetes/overlays/(\w+)", text):
        assert (ROOT / "deploy" / "kubernetes" / "overlays" / overlay / "kustomization.yaml").exists(), overlay
