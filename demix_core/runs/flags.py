"""What `runs submit`, `runs sweep` and `runs tune` share: the run's config from its flags,
checked before anything is queued."""

from __future__ import annotations

import argparse
import os


def checked_config(args: argparse.Namespace):
    """The run's config from flags, refused now (not when a worker starts it) if a step
    would not fit in memory; and its name, free of control characters."""
    from demix_core.config import config_from_args
    from demix_core.data import load_dataset
    from demix_core.training import pick_device
    from demix_core.validation import check_memory, check_name

    config = config_from_args(args)
    kg = load_dataset(config.dataset)
    # a cluster's workers may have the GPU this machine lacks: estimate as for the CPU there
    remote = args.cluster or (args.cluster is None and os.environ.get("DEMIX_CLUSTER"))
    device = pick_device("cpu" if remote else config.device)
    check_memory(config, kg.num_entities, kg.num_relations, device)
    if args.name is not None:
        check_name("name", args.name)
    return config
