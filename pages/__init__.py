"""The app's pages (run by `st.navigation` from app.py) and the helpers they share.

A regular package on purpose: a namespace package recomputes its path from sys.path at every
import, and Streamlit adds the app's folder for the length of a script run only (besides the
entry folder it puts on sys.path for good when the server starts, which is what `pages` and
`demix_core` are found through); this one keeps the folder it was first imported from.
"""
