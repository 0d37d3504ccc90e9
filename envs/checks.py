"""Settings checks shared by every layer (envs, agents, experiments).

Each raises ValueError with one sentence: "KEY must be WHAT; got VALUE." The key is the one
a user writes on the command line (env.grid_size, agent.batch_size, scale.num_seeds), so the
message says exactly what to change. Bools are not numbers here: a stray `true` where a count
belongs is a mistake, not a 1.
"""

from collections.abc import Sequence


# The predicates and `fail` are public: a layer's own compound check (e.g. agents.dyna's
# rollout schedule) words its message and treats bools as these do.
def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_list(values) -> bool:
    # Lists, tuples and OmegaConf's ListConfig; a string is not a list of settings.
    return isinstance(values, Sequence) and not isinstance(values, str) and len(values) > 0


def fail(key: str, what: str, value) -> None:
    raise ValueError(f"{key} must be {what}; got {value!r}.")


def positive_int(key: str, value) -> None:
    if not (is_int(value) and value > 0):
        fail(key, "a positive integer", value)


def positive_number(key: str, value) -> None:
    if not (is_number(value) and value > 0):
        fail(key, "a positive number", value)


def one_of(key: str, value, allowed) -> None:
    if value not in allowed:
        fail(key, f"one of {', '.join(map(str, allowed))}", value)


def number_in(key: str, value, low: float, high: float) -> None:
    if not (is_number(value) and low <= value <= high):
        fail(key, f"a number from {low} to {high}", value)


def boolean(key: str, value) -> None:
    # A real bool, so that a stray 0/1 or "false" string is caught.
    if not isinstance(value, bool):
        fail(key, "true or false", value)


def integer_at_least(key: str, value, low: int) -> None:
    if not (is_int(value) and value >= low):
        fail(key, f"an integer >= {low}", value)


def integer_in(key: str, value, low: int, high: int, high_name: str = "") -> None:
    """`high_name` says where a derived bound comes from, e.g. "env.grid_size**2"."""
    if not (is_int(value) and low <= value <= high):
        upper = f"{high_name} = {high}" if high_name else f"{high}"
        fail(key, f"an integer from {low} to {upper}", value)


def number_at_least(key: str, value, low: float) -> None:
    if not (is_number(value) and value >= low):
        fail(key, f"a number >= {low}", value)


def positive_ints(key: str, values) -> None:
    """A non-empty list of positive integers, e.g. hidden-layer widths."""
    if not (is_list(values) and all(is_int(v) and v > 0 for v in values)):
        fail(key, "a non-empty list of positive integers", values)


def integers(key: str, values) -> None:
    """A non-empty list of integers, e.g. the exponents of a grid search."""
    if not (is_list(values) and all(is_int(v) for v in values)):
        fail(key, "a non-empty list of integers", values)


def fraction(key: str, value) -> None:
    """A number in (0, 1]: a rate of which 1 means all, e.g. an EMA's."""
    if not (is_number(value) and 0 < value <= 1):
        fail(key, "a number greater than 0 and at most 1", value)
