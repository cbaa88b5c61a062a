"""Negative samplers behind one contract (`base.Sampler`), listed in `registry.SAMPLERS`."""

from demix_core.sampling.base import Negatives, Sampler
from demix_core.sampling.registry import SAMPLERS, build_sampler, sampler_class

__all__ = ["Negatives", "SAMPLERS", "Sampler", "build_sampler", "sampler_class"]
