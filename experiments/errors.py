"""The one error a bad setting raises, at every layer that checks one (config.py, the
driver's device split, the speed settings): the CLI turns it into one sentence and exit
code 2. A leaf, so that whatever checks a setting can import it without the config layer."""


class ConfigError(ValueError):
    pass
