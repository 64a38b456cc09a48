"""Red-team finding on the leftovers a build removes beside its site (session 7, 7239dad:
the search scratch folder lies beside the site, and a killed build's is removed by the next)."""

from __future__ import annotations

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
    others = [project.root / f".site1.{kind}-running" for kind in ("staging", "search", "old")]
    for other in others:
        other.mkdir()
        (other / "index.html").write_text("<html><body>another site's</body></html>")
    own = project.root / ".site[1].search-killed"
    (own / "briefs/open").mkdir(parents=True)
    (own / "briefs/open/index.html").write_text(f"<html><body>{SECRET}</body></html>")
    run = project.run("--out", "site[1]", "-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert all((other / "index.html").read_text() == "<html><body>another site's</body></html>"
               for other in others)
    assert not own.exists()
