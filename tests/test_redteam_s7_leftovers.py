"""Red-team finding on the leftovers a build removes beside its site (session 7, 7239dad:
the search scratch folder lies beside the site, and a killed build's is removed by the next)."""

from __future__ import annotations

import uuid

from conftest import TmpProject
from test_redteam_incremental import SECRET
from test_twin import two_briefs


def test_a_site_named_like_a_pattern_removes_its_own_leftovers_and_no_other_sites(
        project: TmpProject) -> None:
    """A site built with ``--out 'site[1]'``: the leftovers beside it were found by a glob
    pattern built from its name, so the build removed the scratch, staging and retired
    folders of the site ``site1`` in the same folder (another site's, under another lock:
    a build of it running then lost its staged site), and never its own a killed build left
    behind, copies of its pages among them."""
    two_briefs(project)
    others = [project.root / f".site1.{kind}-{uuid.uuid4().hex}" for kind in ("staging", "search", "old")]
    for other in others:
        other.mkdir()
        (other / "index.html").write_text("<html><body>another site's</body></html>")
    own = project.root / f".site[1].search-{uuid.uuid4().hex}"
    (own / "briefs/open").mkdir(parents=True)
    (own / "briefs/open/index.html").write_text(f"<html><body>{SECRET}</body></html>")
    run = project.run("--out", "site[1]", "-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert all((other / "index.html").read_text() == "<html><body>another site's</body></html>"
               for other in others)
    assert not own.exists()


def test_a_site_whose_name_begins_as_another_sites_leftovers_is_never_removed(
        project: TmpProject) -> None:
    """A site published with ``--out .site.search-pub`` (or ``site.search-2``, whose staging
    folder is ``.site.search-2.staging-...``): the next build into ``site`` took every name
    beginning ``.site.search-`` for a scratch folder a killed build left, and removed that
    published site."""
    two_briefs(project)
    for out in (".site.search-pub", "site.search-2"):
        assert project.run("--out", out, "-j", "1", "--no-pdf").code == 0
    staging = project.root / f".site.search-2.staging-{uuid.uuid4().hex}"
    staging.mkdir()
    (staging / "index.html").write_text("<html><body>being staged</body></html>")
    published = {out: (project.root / out / "index.html").read_bytes()
                 for out in (".site.search-pub", "site.search-2")}
    project.write("other.yaml", (project.root / "briefs/other.yaml").read_text() + "\n")
    run = project.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert {out: (project.root / out / "index.html").read_bytes() for out in published} == published
    assert (staging / "index.html").read_text() == "<html><body>being staged</body></html>"
