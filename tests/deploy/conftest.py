"""The image the container tests run: built once per module from the working tree's Dockerfile."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launchers import container as ctr


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The image built from the working tree's Dockerfile on the Debian-made base; removed afterwards."""
    reason = ctr.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    base = ctr.ensure_base_image()
    tag = f"localhost/{ctr.unique_name('parlor-test')}:latest"
    try:
        build = ctr.build_image(tag, base=base)
        print(f"image {tag} built in {build.seconds:.0f} s")
        yield tag
    finally:
        ctr.remove_image(tag)
