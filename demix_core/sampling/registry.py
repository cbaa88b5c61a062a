"""The sampler registry: one place to add a sampler."""

from __future__ import annotations

from demix_core.errors import ConfigError
from demix_core.sampling.base import Sampler, make_options
from demix_core.sampling.cans import CANSSampler
from demix_core.sampling.demix import DemixSampler
from demix_core.sampling.esns import ESNSSampler
from demix_core.sampling.mixkg import MixKGSampler
from demix_core.sampling.nscaching import NSCachingSampler
from demix_core.sampling.oracle import OracleSampler
from demix_core.sampling.sans import RWSANSSampler, SANSSampler
from demix_core.sampling.uniform import BernoulliSampler, UniformSampler

SAMPLERS: dict[str, type[Sampler]] = {
    "uniform": UniformSampler,
    "bernoulli": BernoulliSampler,
    "nscaching": NSCachingSampler,
    "sans": SANSSampler,
    "rw-sans": RWSANSSampler,
    "mixkg": MixKGSampler,
    "cans": CANSSampler,
    "esns": ESNSSampler,
    "demix": DemixSampler,
    "oracle": OracleSampler,  # measures with the known truth; not a training method
}


def sampler_class(name: str) -> type[Sampler]:
    if name not in SAMPLERS:
        raise ConfigError(f"--sampler: unknown sampler {name!r} (known: {', '.join(SAMPLERS)})")
    return SAMPLERS[name]


def build_sampler(name: str, kg, index, options: dict | None, seed: int, device) -> Sampler:
    cls = sampler_class(name)
    return cls(kg, index, make_options(cls.Options, options or {}, name), seed, device)
