"""Errors of the platform layer, in a module of their own so every platform module can raise them."""


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says what to set."""
