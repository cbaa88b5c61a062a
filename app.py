"""DeMix Lab: the router. Pages live in `pages/`, their logic in `demix_core`."""

import streamlit as st

from pages import common, datasets

st.set_page_config(page_title="DeMix Lab", page_icon=":material/science:", layout="wide")
page = common.navigation()  # the pages, by section (pages/common.py: PAGES)
datasets.warm_up()  # torch and the training stack load while this page is drawn
# one error boundary for every page: a failure is a short message, never a traceback
common.guarded(common.sidebar, where=st.sidebar)
common.run_routed(page)
