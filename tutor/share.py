"""Share codes: the whole visualizer state as a short string a teacher can read out.

A code is Crockford base32 (digits and capitals, no I, L, O or U; read case-insensitively,
O/I/L typed for 0/1/1 are forgiven) of a few bytes, grouped by four with hyphens:

    byte 0        format version (2; codes of another version are refused and say so)
    varint        which fields differ from the defaults (one bit each, see FIELD_BITS)
    then          those fields, in FIELD_BITS order, as varints / names / exact decimals
    last 2 bytes  CRC-16 (CCITT) of everything before: any one mistyped character, or two
                  neighbours swapped, is caught

The state is a plain dict (what `state_of` makes of the visualizer's runs):
    {"problem": make_problem spec, "optimizers": [keys], "hp": {"lr", "decay", "eps", "mu"} the runs start with,
     "edits": per run, [[k, {name: value, ...}], ...]: from the update after step k on, these values changed,
     "step": int, "cursor": inspected element, "selected": run the grids show, "speed": steps/s,
     "view": name, "hidden": [panel names]}
The edits are the whole history (each record keeps the hyperparameters it was computed with),
so `runs_of` gives runs that compute every step exactly as the shared ones did, bit for bit.
Missing fields take their defaults (the seed's matrix, rmsprop, the seed's hyperparameters, no
edits, step 0, element 0, the first run, 10 steps/s, the matrix view, nothing hidden); decode
returns every field, the problem as its full spec. Defaults cost nothing, so the common code is
12-20 characters (edits shared by every run are written once). Floats travel as the shortest
decimal that reads back to the same float (repr), so they round-trip exactly. Decoding checks
the state with the engine's own checks, and refuses a state whose steps would take more memory
or time to compute than MAX_RECORD_BYTES / MAX_WORK allow, so a code can never open a state the
app would refuse, nor one that takes the machine down.
"""

from __future__ import annotations

import binascii
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from tutor.engine.cost import update_cost
from tutor.engine.history import CHECKPOINT_ABOVE, SPACING
from tutor.engine.hyper import HyperparameterError, Hyperparameters
from tutor.engine.optimizers import get_optimizer
from tutor.engine.problems import PROBLEM_KINDS as ENGINE_PROBLEMS
from tutor.engine.problems import ProblemError, make_problem
from tutor.engine.run import MAX_STEPS, Run

VERSION = 2  # 2: the edit history, cursor, selected run and speed (1 replayed the last values from step 0)
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_FORGIVEN = {"O": "0", "I": "1", "L": "1"}
_IGNORED = "- "
MAX_CODE_CHARS = 400  # about 60 edits; longer is pasted garbage
MAX_OPTIMIZERS = 8
MAX_HIDDEN = 16
MAX_SPEED = 1000  # steps/s
DEFAULT_SPEED = 10  # the visualizer's (a test holds them equal)
# What opening a code may cost. Each record kept is a few arrays of the problem's size; the
# compare mode's three runs on the seed's matrix at the step cap take about 450 MB and fit.
MAX_RECORD_BYTES = 512 * 2**20
# Updates, each weighed by tutor/engine/cost.py in updates of the seed's matrix: at most about a minute of
# engine work (a 100-layer chain at step 100000 is 1.35 million; the digits network at step 6000, 0.6
# million, ~45 s under load), behind a progress bar that escape stops.
MAX_WORK = 1_500_000

DEFAULT_PROBLEM: dict[str, Any] = {"kind": "matrix"}
DEFAULT_OPTIMIZERS = ["rmsprop"]
DEFAULT_VIEW = "matrix"
STATE_FIELDS = ("problem", "optimizers", "hp", "edits", "step", "cursor", "selected", "speed", "view", "hidden")

# Fixed tables: a name's index is part of the format, so append only, never reorder.
# Problem parameters follow the engine's dataclass fields; these tables only make common names short.
PROBLEM_KINDS = ("matrix", "deep-chain", "valley", "rosenbrock", "minibatch", "digits")
NAME_PARAMETERS = {
    "variant": ("seed", "diagonal"),
    "activation": ("linear", "sigmoid", "tanh", "relu"),
    "start_point": ("fixed", "turned"),
}
OPTIMIZER_NAMES = ("gd", "rmsprop", "rmsprop-momentum", "rmsprop-eps-inside", "rmsprop-centered", "rprop", "adam")
PANEL_NAMES = (
    "x", "product", "grad", "mean_square", "effective_step", "momentum",
    "chart", "inspector", "status", "narration", "controls", "footer", "legend",
    "grids", "edit", "run", "jump", "phases",
)  # fmt: skip
VIEW_NAMES = ("matrix", "chain", "surface", "race", "network")
# The seven most often changed fit the first flag byte.
FIELD_BITS = (
    "problem",
    "optimizers",
    "view",
    "lr",
    "step",
    "edits",
    "cursor",
    "decay",
    "eps",
    "mu",
    "hidden",
    "speed",
    "selected",
    "lr_halving",
)


class ShareCodeError(ValueError):
    """A share code that cannot be opened (or a state that cannot be shared); the message says why."""


def encode(state: dict[str, Any]) -> str:
    """The share code of `state` (checked first: a code is only made for a state that opens)."""
    try:
        clean = _validated(state)
    except ShareCodeError as error:
        raise ShareCodeError(f"cannot make a share code: {error}") from None
    defaults = Hyperparameters().as_dict()
    fields = bytearray()
    flags = 0
    for bit, field in enumerate(FIELD_BITS):
        chunk = bytearray()
        if field == "problem":
            _put_problem(chunk, clean["problem"])
        elif field == "optimizers" and clean["optimizers"] != DEFAULT_OPTIMIZERS:
            _put_names(chunk, clean["optimizers"], OPTIMIZER_NAMES)
        elif field == "view" and clean["view"] != DEFAULT_VIEW:
            _put_name(chunk, clean["view"], VIEW_NAMES)
        elif field in defaults and clean["hp"][field] != defaults[field]:
            _put_decimal(chunk, clean["hp"][field])
        elif field in ("step", "cursor", "selected") and clean[field]:
            _put_varint(chunk, clean[field])
        elif field == "speed" and clean["speed"] != DEFAULT_SPEED:
            _put_varint(chunk, clean["speed"])
        elif field == "edits" and any(clean["edits"]):
            _put_edits(chunk, clean["edits"])
        elif field == "hidden" and clean["hidden"]:
            _put_names(chunk, clean["hidden"], PANEL_NAMES)
        if chunk:
            flags |= 1 << bit
            fields += chunk
    out = bytearray([VERSION])
    _put_varint(out, flags)
    out += fields
    out += binascii.crc_hqx(bytes(out), 0).to_bytes(2, "big")
    text = _to_base32(bytes(out))
    code = "-".join(text[i : i + 4] for i in range(0, len(text), 4))
    if len(code) > MAX_CODE_CHARS:
        raise ShareCodeError(f"cannot make a share code: it would be {len(code)} characters long (at most {MAX_CODE_CHARS})")
    return code


def decode(code: str) -> dict[str, Any]:
    """The state a share code holds; ShareCodeError with a reason a learner can act on."""
    if not isinstance(code, str) or not code.strip():
        raise ShareCodeError("the share code is empty: type the code exactly as it was given, e.g. 04C0-40RS-HGF0")
    if len(code) > MAX_CODE_CHARS:
        raise ShareCodeError(f"this is too long to be a share code ({len(code)} characters)")
    data = _from_base32(code)
    if len(data) < 4 or binascii.crc_hqx(data[:-2], 0) != int.from_bytes(data[-2:], "big"):
        raise ShareCodeError("this share code is damaged (checksum): check it character by character")
    if data[0] != VERSION:
        raise ShareCodeError(
            f"this share code was made by another version of tutor (format {data[0]}; this one reads {VERSION}):"
            " ask for a new code"
        )
    reader = _Reader(data[1:-2])
    flags = reader.varint()
    if flags >> len(FIELD_BITS):
        raise ShareCodeError("this share code holds something this version of tutor does not know")
    state: dict[str, Any] = {"hp": Hyperparameters().as_dict()}
    for bit, field in enumerate(FIELD_BITS):
        if not flags & (1 << bit):
            continue
        if field == "problem":
            state["problem"] = _get_problem(reader)
        elif field == "optimizers":
            state["optimizers"] = _get_names(reader, OPTIMIZER_NAMES)
        elif field == "view":
            state["view"] = _get_name(reader, VIEW_NAMES)
        elif field in state["hp"]:
            state["hp"][field] = _get_decimal(reader)
        elif field in ("step", "cursor", "selected", "speed"):
            state[field] = reader.varint()
        elif field == "edits":
            state["edits"] = _get_edits(reader)
        else:
            state["hidden"] = _get_names(reader, PANEL_NAMES)
    if not reader.done():
        raise ShareCodeError("this share code is damaged (it has bytes left over)")
    if len(state.get("edits", ())) == 1:  # one history written for every run
        state["edits"] *= len(state.get("optimizers") or DEFAULT_OPTIMIZERS)
    try:
        return _validated(state)
    except ShareCodeError as error:
        raise ShareCodeError(f"this share code cannot be opened: {error}") from None


def _validated(state: dict[str, Any]) -> dict[str, Any]:
    """The state in its canonical form, checked by the engine's own checks."""
    if not isinstance(state, dict):
        raise ShareCodeError(f"a state is a dict, not {type(state).__name__}")
    unknown = set(state) - set(STATE_FIELDS)
    if unknown:
        raise ShareCodeError(f"unknown field {sorted(unknown)[0]!r}")
    problem = _canonical_problem(dict(state.get("problem") or DEFAULT_PROBLEM))
    optimizers = list(state.get("optimizers") or DEFAULT_OPTIMIZERS)
    if len(optimizers) > MAX_OPTIMIZERS:
        raise ShareCodeError(f"at most {MAX_OPTIMIZERS} optimizers, not {len(optimizers)}")
    for key in optimizers:
        try:
            get_optimizer(key)
        except (ValueError, TypeError) as error:
            raise ShareCodeError(str(error)) from None
    try:
        hp = Hyperparameters.validated(**dict(state.get("hp") or {})).as_dict()
    except (HyperparameterError, TypeError) as error:
        raise ShareCodeError(str(error)) from None
    step = _whole(state, "step", "the update", 0, MAX_STEPS)
    edits = _validated_edits(state.get("edits"), len(optimizers), Hyperparameters(**hp))
    size = make_problem(problem).start().size
    cursor = _whole(state, "cursor", "the inspected element", 0, size - 1)
    selected = _whole(state, "selected", "the selected run", 0, len(optimizers) - 1)
    speed = _whole(state, "speed", "the speed", 1, MAX_SPEED, default=DEFAULT_SPEED)
    hidden = list(state.get("hidden") or [])
    if len(hidden) > MAX_HIDDEN:
        raise ShareCodeError(f"at most {MAX_HIDDEN} hidden panels, not {len(hidden)}")
    for name in hidden:
        if not _plain_name(name):
            raise ShareCodeError(f"a hidden panel's name must be a short plain name, not {name!r}")
    view = state.get("view", DEFAULT_VIEW)
    if not _plain_name(view):
        raise ShareCodeError(f"a view's name must be a short plain name, not {view!r}")
    _check_cost(problem, optimizers, step, hp)
    values = (problem, optimizers, hp, edits, step, cursor, selected, speed, view, hidden)
    return dict(zip(STATE_FIELDS, values, strict=True))


def _whole(state: dict[str, Any], field: str, what: str, low: int, high: int, default: int = 0) -> int:
    value = state.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ShareCodeError(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _validated_edits(given: object, runs: int, start: Hyperparameters) -> list[list[list[Any]]]:
    """Each run's edits, canonical: steps increasing, each naming only the values it changes."""
    if given is None or given == []:
        given = [[] for _ in range(runs)]
    if not isinstance(given, (list, tuple)) or len(given) != runs:
        raise ShareCodeError(f"the edits are one list per run ({runs}), not {given!r:.60}")
    clean: list[list[list[Any]]] = []
    for history in given:
        if not isinstance(history, (list, tuple)):
            raise ShareCodeError(f"a run's edits are a list of [update, values], not {history!r:.60}")
        hp, last, run_edits = start, -1, []
        for edit in history:
            if not (isinstance(edit, (list, tuple)) and len(edit) == 2 and isinstance(edit[1], dict)):
                raise ShareCodeError(f"an edit is [update, {{name: value}}], not {edit!r:.60}")
            at = _whole({"step": edit[0]}, "step", "an edit's update", last + 1, MAX_STEPS)
            try:
                new = hp
                for name, value in edit[1].items():
                    new = new.with_value(name, value)
            except (HyperparameterError, TypeError) as error:
                raise ShareCodeError(f"an edit at update {at}: {error}") from None
            changes = _changes(hp, new)
            if changes:
                run_edits.append([at, changes])
            hp, last = new, at
        clean.append(run_edits)
    return clean


def _changes(old: Hyperparameters, new: Hyperparameters) -> dict[str, float]:
    return {name: getattr(new, name) for name in Hyperparameters.NAMES if getattr(new, name) != getattr(old, name)}


def _check_cost(problem: dict[str, Any], optimizers: list[str], step: int, hp: dict[str, float]) -> None:
    """Refuse a state whose steps would take more memory or engine time to compute than a code may ask for."""
    made = make_problem(problem)
    x0 = np.array(made.start(), dtype=float)
    array_bytes = 128 + x0.nbytes  # a small numpy array's header, then its numbers
    memory, work = 0, 0.0
    for key in optimizers:
        buffers = len(get_optimizer(key).start_buffers(x0, Hyperparameters(**hp)))
        whole = (3 + buffers) * array_bytes + 300  # x, grad, step size and buffers; the record itself
        memory += step * (whole // SPACING + 300 if x0.size > CHECKPOINT_ABOVE else whole)  # see engine/history.py
        work += step * update_cost(made)
    runs = f"{len(optimizers)} run{'s' * (len(optimizers) > 1)} to update {step}"
    if memory > MAX_RECORD_BYTES:
        raise ShareCodeError(
            f"{runs} would keep about {memory / 2**30:.1f} GB of records, more than the {MAX_RECORD_BYTES // 2**20} MB"
            " a share code may ask for: share an earlier update or fewer runs"
        )
    if work > MAX_WORK:
        raise ShareCodeError(
            f"{runs} on {x0.size} numbers is about {work:,.0f} updates of the seed's matrix in work, more than the"
            f" {MAX_WORK:,} a share code"
            " may ask for: share an earlier update or fewer runs"
        )


def state_of(
    runs: Sequence[Run],
    step: int,
    view: str = DEFAULT_VIEW,
    hidden: Iterable[str] = (),
    cursor: int = 0,
    selected: int = 0,
    speed: int = DEFAULT_SPEED,
) -> dict[str, Any]:
    """The state a share code holds for these runs (all on one problem, started with the same values)."""
    start = runs[0].records.hp(0)
    if any(run.records.hp(0) != start for run in runs):
        raise ShareCodeError("runs that start with different hyperparameters cannot share one code")
    edits = []
    for run in runs:
        previous, history = start, []
        for at, hp in run.edits():
            history.append([at, _changes(previous, hp)])
            previous = hp
        edits.append(history)
    return {
        "problem": runs[0].problem.spec(),
        "optimizers": [run.optimizer.key for run in runs],
        "hp": start.as_dict(),
        "edits": edits,
        "step": step,
        "cursor": cursor,
        "selected": selected,
        "speed": speed,
        "view": view,
        "hidden": sorted(hidden),
    }


def runs_of(state: dict[str, Any]) -> list[Run]:
    """Runs at step 0 that compute every step as the shared ones did (their edits planned); nothing computed yet."""
    problem = make_problem(state["problem"])
    start = Hyperparameters(**state["hp"])
    runs = []
    for key, history in zip(state["optimizers"], state["edits"], strict=True):
        run = Run.create(problem, key, start)
        hp, plan = start, []
        for at, changes in history:
            hp = Hyperparameters(**{**hp.as_dict(), **changes})
            plan.append((at, hp))
        run.plan(plan)
        runs.append(run)
    return runs


def _plain_name(name: object) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 40 and name.isascii() and name.isprintable()


def _parameter_default(kind: str, name: str) -> Any:
    return ENGINE_PROBLEMS[kind].__dataclass_fields__[name].default


def _canonical_problem(spec: dict[str, Any]) -> dict[str, Any]:
    """The problem's own full spec, plus any parameter it leaves out there but that differs from its default."""
    try:
        problem = make_problem(spec)
    except ProblemError as error:
        raise ShareCodeError(str(error)) from None
    canonical = problem.spec()
    for name in _parameters(problem.kind):
        value = getattr(problem, name)
        if name not in canonical and value != _parameter_default(problem.kind, name):
            canonical[name] = value
    return canonical


# --- base32 -----------------------------------------------------------------------------------


def _to_base32(data: bytes) -> str:
    bits = len(data) * 8
    chars = -(-bits // 5)
    number = int.from_bytes(data, "big") << (chars * 5 - bits)
    return "".join(ALPHABET[(number >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


def _from_base32(code: str) -> bytes:
    number = 0
    chars = 0
    for char in code.upper():
        if char in _IGNORED:
            continue
        char = _FORGIVEN.get(char, char)
        value = ALPHABET.find(char)
        if value < 0:
            shown = char if char.isprintable() else repr(char)
            raise ShareCodeError(f"a share code has only digits and letters (no I, L, O, U), not {shown!r}")
        number = number << 5 | value
        chars += 1
    size = chars * 5 // 8
    spare = chars * 5 - size * 8
    if -(-size * 8 // 5) != chars or number & ((1 << spare) - 1):
        raise ShareCodeError("this share code is damaged (checksum): check it character by character")
    return (number >> spare).to_bytes(size, "big")


# --- fields -------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise ShareCodeError("this share code is damaged (it ends too early)")
        self.at += 1
        return self.data[self.at - 1]

    def varint(self) -> int:
        number = shift = 0
        while True:
            byte = self.byte()
            number |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return number
            if shift > 70:
                raise ShareCodeError("this share code is damaged (a number is too long)")

    def done(self) -> bool:
        return self.at == len(self.data)


def _put_varint(out: bytearray, number: int) -> None:
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)


def _zigzag(number: int) -> int:
    return number * 2 if number >= 0 else -number * 2 - 1


def _unzigzag(number: int) -> int:
    return number // 2 if number % 2 == 0 else -(number + 1) // 2


def _put_decimal(out: bytearray, value: float) -> None:
    """A float as the shortest decimal that reads back to it: mantissa and power of ten."""
    sign, digits, power = Decimal(repr(float(value))).as_tuple()
    mantissa, exponent = int("".join(map(str, digits))), int(power)  # a finite float's power of ten is whole
    while mantissa and mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    _put_varint(out, _zigzag(-mantissa if sign else mantissa))
    _put_varint(out, _zigzag(exponent if mantissa else 0))


def _get_decimal(reader: _Reader) -> float:
    mantissa = _unzigzag(reader.varint())
    exponent = _unzigzag(reader.varint())
    if abs(exponent) > 400:
        raise ShareCodeError("this share code is damaged (a number is out of range)")
    value = float(Decimal(mantissa).scaleb(exponent))
    if not math.isfinite(value):
        raise ShareCodeError("this share code is damaged (a number is out of range)")
    return value


def _put_name(out: bytearray, name: str, table: tuple[str, ...]) -> None:
    """A known name as its index in `table`; any other as its length (high bit set) and ASCII."""
    if name in table:
        out.append(table.index(name))
    else:
        raw = name.encode("ascii")
        out.append(0x80 | len(raw))
        out += raw


def _get_name(reader: _Reader, table: tuple[str, ...]) -> str:
    first = reader.byte()
    if first & 0x80:
        raw = bytes(reader.byte() for _ in range(first & 0x7F))
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise ShareCodeError("this share code is damaged (a name is not plain text)") from None
    if first >= len(table):
        raise ShareCodeError("this share code names something this version of tutor does not know")
    return table[first]


def _put_names(out: bytearray, names: list[str], table: tuple[str, ...]) -> None:
    _put_varint(out, len(names))
    for name in names:
        _put_name(out, name, table)


def _get_names(reader: _Reader, table: tuple[str, ...]) -> list[str]:
    return [_get_name(reader, table) for _ in range(reader.varint())]


def _parameters(kind: str) -> tuple[str, ...]:
    """A problem's parameters in the engine's field order; each travels as its default's type."""
    fields = ENGINE_PROBLEMS[kind].__dataclass_fields__.values()
    return tuple(f.name for f in fields if f.init and f.name != "kind")


def _put_problem(out: bytearray, problem: dict[str, Any]) -> None:
    """The kind, which parameters differ from their defaults (a bit each), then their values."""
    kind = problem["kind"]
    names = _parameters(kind)
    mask = sum(1 << i for i, name in enumerate(names) if name in problem and problem[name] != _parameter_default(kind, name))
    if kind == DEFAULT_PROBLEM["kind"] and not mask:
        return
    _put_name(out, kind, PROBLEM_KINDS)
    _put_varint(out, mask)
    for i, name in enumerate(names):
        if not mask & (1 << i):
            continue
        default = _parameter_default(kind, name)
        if isinstance(default, str):
            _put_name(out, problem[name], NAME_PARAMETERS.get(name, ()))
        elif isinstance(default, int):
            _put_varint(out, _zigzag(int(problem[name])))
        else:
            _put_decimal(out, problem[name])


def _get_problem(reader: _Reader) -> dict[str, Any]:
    kind = _get_name(reader, PROBLEM_KINDS)
    if kind not in ENGINE_PROBLEMS:
        raise ShareCodeError(f"this share code names a problem this version of tutor does not know ({kind!r})")
    names = _parameters(kind)
    mask = reader.varint()
    if mask >> len(names):
        raise ShareCodeError("this share code is damaged (unknown problem parameters)")
    problem: dict[str, Any] = {"kind": kind}
    for i, name in enumerate(names):
        if not mask & (1 << i):
            continue
        default = _parameter_default(kind, name)
        if isinstance(default, str):
            problem[name] = _get_name(reader, NAME_PARAMETERS.get(name, ()))
        elif isinstance(default, int):
            problem[name] = _unzigzag(reader.varint())
        else:
            problem[name] = _get_decimal(reader)
    return problem


def _put_edits(out: bytearray, edits: list[list[list[Any]]]) -> None:
    """How many histories (1: every run's, written once), then each: its length, then per edit
    the steps since the last edit and which values change (4 bits; 0 and a mask of all the values
    when lr_halving changes), then those values."""
    histories = edits[:1] if all(history == edits[0] for history in edits) else edits
    _put_varint(out, len(histories))
    for history in histories:
        _put_varint(out, len(history))
        last = 0
        for at, changes in history:
            mask = sum(1 << i for i, name in enumerate(Hyperparameters.NAMES) if name in changes)
            if mask < 1 << 4:  # lr, decay, eps, mu: the 4 bits beside the step
                _put_varint(out, (at - last) << 4 | mask)
            else:  # a later value (lr_halving): 4 zero bits (no edit changes nothing), then the whole mask
                _put_varint(out, (at - last) << 4)
                _put_varint(out, mask)
            last = at
            for name in Hyperparameters.NAMES:
                if name in changes:
                    _put_decimal(out, changes[name])


def _get_edits(reader: _Reader) -> list[list[list[Any]]]:
    histories = []
    for _ in range(_count(reader, MAX_OPTIMIZERS)):
        history, at = [], 0
        for _ in range(_count(reader, MAX_CODE_CHARS)):
            packed = reader.varint()
            at += packed >> 4
            mask = packed & 0xF or reader.varint()
            if not mask or mask >> len(Hyperparameters.NAMES):
                raise ShareCodeError("this share code is damaged (an edit that changes no known value)")
            history.append([at, {name: _get_decimal(reader) for i, name in enumerate(Hyperparameters.NAMES) if mask & 1 << i}])
        histories.append(history)
    return histories


def _count(reader: _Reader, most: int) -> int:
    count = reader.varint()
    if count > most:
        raise ShareCodeError("this share code is damaged (a count is out of range)")
    return count
