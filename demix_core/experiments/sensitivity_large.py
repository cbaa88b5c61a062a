"""`sensitivity-large`: DeMix's mu x alpha on FB15k-237 and WN18RR (RotatE), picked on valid.

The small-KG `sensitivity` grid would take hours here, so this is a 2 x 2 corner of it at the
`benchmarks` budget (2,000 steps): the spec's mu 1 against mu 0 (MPN only above the average
positive, for graphs whose queries have many weakly fitted positives), and light mixing
(alpha 0.7, 0.9), the range the small KGs picked. Same numbers layout as `sensitivity`, so
its table, conclusion and heatmaps read this file too; `config.DEMIX_DEFAULTS` takes the
picks (tests/test_experiments.py checks the two agree).
"""

from __future__ import annotations

from demix_core.experiments import sensitivity
from demix_core.experiments.base import Context
from demix_core.experiments.benchmarks import DATASETS
from demix_core.experiments.pool import fit_many, job

MUS = (0.0, 1.0)
ALPHAS = (0.7, 0.9)


def run(ctx: Context) -> dict:
    seed = ctx.seeds[0]
    plan = []
    for dataset in ctx.large(DATASETS):
        plan.append(
            ((dataset, "rotate", seed, None, None), job(dataset, "rotate", "uniform", seed))
        )
        for mu in ctx.take(MUS):
            for alpha in ctx.take(ALPHAS, 2):
                options = {"mu": mu, "alpha": alpha}
                plan.append(
                    (
                        (dataset, "rotate", seed, mu, alpha),
                        job(dataset, "rotate", "demix", seed, options),
                    )
                )
    return sensitivity.split(plan, fit_many(ctx, [j for _, j in plan]))


# same numbers layout as `sensitivity`: its table, conclusion and heatmaps
table, conclude, figures = sensitivity.table, sensitivity.conclude, sensitivity.figures
