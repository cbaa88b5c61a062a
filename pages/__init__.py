"""The app's pages (run by `st.navigation` from app.py) and the helpers they share.

A regular package on purpose: Streamlit puts the app's folder on sys.path only while a script
runs, and two overlapping sessions can take it off under each other. A namespace package
recomputes its path from sys.path at every import; this one keeps the folder it was first
imported from, and puts that folder back on sys.path for good (for `demix_core` as well).
"""

import sys
from pathlib import Path

_APP_DIR = str(Path(__file__).resolve().parent.parent)
if _APP_DIR not in sys.path:
    sys.path.append(_APP_DIR)
