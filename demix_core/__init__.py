"""DeMix Lab core library: datasets, KGE models, samplers (DeMix and peers), training, evaluation.

Never imports streamlit; the app in `app.py`/`pages/` sits on top of it.
"""

import os

# OpenMP threads that spin while waiting make PyTorch 50-100x slower when another busy
# process shares the cores (the app's server beside a training worker, two workers): measured
# 290 ms vs 1.2 ms per small step on 2 loaded cores. Passive waiting avoids that. It must be
# set before torch starts its OpenMP runtime, hence here; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from demix_core._malloc import keep_freed_memory  # noqa: E402

keep_freed_memory()

__version__ = "0.1.0"
