"""User-facing errors: one readable line, no traceback at the CLI or in the app."""


class DemixError(Exception):
    """Base of every error caused by input (files, flags, configs), not by a bug."""


class DatasetError(DemixError):
    """A dataset that cannot be loaded; the message names the file and line."""


class ConfigError(DemixError):
    """A configuration value or flag that makes no sense; the message names the field."""


class CheckpointError(DemixError):
    """A checkpoint that is missing, truncated or does not match the dataset."""
