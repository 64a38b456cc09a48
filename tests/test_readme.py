"""The README's Security section names the test that holds each promise: those tests exist."""

from __future__ import annotations

import re

from conftest import REPO


def test_every_test_the_security_section_names_exists() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Security"):readme.index("## PDF reports")]
    named, file = [], None
    for reference in re.findall(r"`((?:test_\w+\.py)?(?:::test_\w+)?)`", section):
        path, _, test = reference.partition("::")
        file = path or file
        named.append((file, test))
    assert len(named) >= 30
    for file, test in named:
        source = (REPO / "tests" / file).read_text(encoding="utf-8")
        assert not test or re.search(rf"^def {test}\(", source, re.MULTILINE), f"{file}::{test}"
