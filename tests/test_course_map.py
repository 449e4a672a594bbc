"""The course map of notebook 00 lists every notebook, links it and embeds its thumbnail."""

from pathlib import Path

from course_utils.course_map import COURSE_MAP, course_map_html

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_the_map_lists_every_notebook_once_in_order():
    sources = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    assert [stop.notebook for stop in COURSE_MAP] == sources


def test_the_map_links_each_notebook_and_embeds_the_thumbnails_it_finds(tmp_path):
    (tmp_path / "05.jpg").write_bytes(b"\xff\xd8fake")
    page = course_map_html(tmp_path)
    assert page.count("<tr>") == len(COURSE_MAP) + 1
    assert all(f'href="{stop.notebook}.ipynb"' in page for stop in COURSE_MAP)
    assert page.count("data:image/jpeg;base64,") == 1
    assert page.count("no thumbnail yet") == len(COURSE_MAP) - 1
