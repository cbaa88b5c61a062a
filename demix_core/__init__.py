"""DeMix Lab core library: datasets, KGE models, samplers (DeMix and peers), training, evaluation.

Never imports streamlit; the app in `app.py`/`pages/` sits on top of it. Importing it changes
no process-wide setting: processes that train call `process.prepare_training_process()`.
"""

__version__ = "0.1.0"
