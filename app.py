"""DeMix Lab: the router. Pages live in `pages/`, their logic in `demix_core`."""

from pathlib import Path

import streamlit as st

from pages import common, datasets

common.route_through_app(entry=True)
ROOT = Path(__file__).resolve().parent
# (file, title, icon, section); a page is listed once its file exists, so pages being
# written elsewhere appear without touching this list again.
PAGES = (
    ("pages/home.py", "Home", ":material/home:", "Lab"),
    ("pages/lesson.py", "Lesson", ":material/school:", "Lab"),
    ("pages/train.py", "Train", ":material/play_arrow:", "Lab"),
    ("pages/runs.py", "Runs", ":material/monitoring:", "Lab"),
    ("pages/compare.py", "Compare", ":material/compare_arrows:", "Lab"),
    ("pages/results.py", "Results", ":material/science:", "Lab"),
    ("pages/mpne.py", "MPNE", ":material/filter_alt:", "Inside DeMix"),
    ("pages/adamix.py", "AdaMix", ":material/blender:", "Inside DeMix"),
    ("pages/samplers.py", "Samplers", ":material/casino:", "Inside DeMix"),
)

st.set_page_config(page_title="DeMix Lab", page_icon=":material/science:", layout="wide")
sections: dict[str, list] = {}
for path, title, icon, section in PAGES:
    if (ROOT / path).is_file():
        page = st.Page(path, title=title, icon=icon, default=path == "pages/home.py")
        sections.setdefault(section, []).append(page)
navigation = st.navigation(sections)
datasets.warm_up()  # torch and the training stack load while this page is drawn
# one error boundary for every page: a failure is a short message, never a traceback
common.guarded(common.sidebar, where=st.sidebar)
common.guarded(navigation.run)
