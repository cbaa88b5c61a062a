"""The sampler registry: one place to add a sampler, one lookup, one "unknown sampler".

A sampler whose options name a `base_sampler` refines another sampler's draws; which
samplers may be that base is said here, from the classes (`Sampler.can_be_base`, and a
refiner's own `bases` where it narrows them), so forms and checks need no list of their own.
"""

from __future__ import annotations

from dataclasses import fields

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


def sampler_class(name: str, field: str = "sampler") -> type[Sampler]:
    """The class registered as `name`; ConfigError naming `field` (its flag) otherwise."""
    if name not in SAMPLERS:
        flag = field.replace("_", "-")
        raise ConfigError(
            f"--{flag}: unknown sampler {name!r} (known: {', '.join(SAMPLERS)})", field=field
        )
    return SAMPLERS[name]


def takes_base(name: str) -> bool:
    """True when sampler `name` refines a base sampler's draws (its options name one)."""
    return any(f.name == "base_sampler" for f in fields(sampler_class(name).Options))


def base_choices(name: str) -> list[str]:
    """The samplers that `name` may take as its base (empty when it takes none)."""
    if not takes_base(name):
        return []
    narrowed = sampler_class(name).bases
    return [
        n for n, cls in SAMPLERS.items() if cls.can_be_base and (narrowed is None or n in narrowed)
    ]


def base_class(name: str, base: str) -> type[Sampler]:
    """The class of `base` as sampler `name`'s base; ConfigError naming base_sampler."""
    cls = sampler_class(base, "base_sampler")
    if base not in base_choices(name):
        raise ConfigError(
            f"--base-sampler: {name} cannot refine {base!r} "
            f"(it refines {', '.join(base_choices(name))})",
            field="base_sampler",
        )
    return cls


def make_sampler_options(name: str, options: dict):
    """The frozen options of sampler `name` from `options` (and its base's, if it takes
    one): ConfigError, with its field, for anything the sampler would refuse."""
    opts = make_options(sampler_class(name).Options, options, name)
    if takes_base(name):
        base = base_class(name, opts.base_sampler)
        try:
            make_options(base.Options, dict(opts.base_options), opts.base_sampler)
        except ConfigError as exc:
            raise ConfigError(f"--base-options: {exc}", field="base_options") from None
    return opts


def build_sampler(name: str, kg, index, options: dict | None, seed: int, device) -> Sampler:
    """Sampler `name` with its options checked; a refiner gets its base built here."""
    opts = make_sampler_options(name, options or {})
    cls = sampler_class(name)
    if not takes_base(name):
        return cls(kg, index, opts, seed, device)
    base = build_sampler(opts.base_sampler, kg, index, dict(opts.base_options), seed, device)
    return cls(kg, index, opts, seed, device, base=base)
