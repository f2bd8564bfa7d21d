"""A multilayer perceptron on the 8x8 handwritten digits, trained in mini-batches.

    h_0 = pixels / 16                      (a row of 64)
    h_k = act(h_{k-1} @ W_k + b_k)         k = 1..depth, W_k of shape (inputs, outputs)
    logits = h_depth @ W_out + b_out       (10 classes)
    loss = mean over the mini-batch of  log(sum_c exp(logits_c)) - logits_label

The parameters are one flat vector (`x`, what every optimizer updates element by element),
laid out layer by layer as W_1, b_1, W_2, b_2, ..., W_out, b_out; `Digits.layers` names the
views into it. Every number is computed with tutor.engine.exact, so the same options give the
same run bit for bit on every machine.
"""

from __future__ import annotations

import gzip
import hashlib
import math
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, ClassVar, NamedTuple

import numpy as np

from tutor.engine import cost, exact
from tutor.engine.errors import ProblemError
from tutor.engine.exact import ONE

_ZERO, _MINUS_TWO = exact.constant(0.0), exact.constant(-2.0)

DATA_FILE = "digits.csv.gz"
IMAGES = 1797
PIXELS = 64
CLASSES = 10
TEST_ROWS = 360  # a fifth of the images, the same for every network: one fixed split
SPLIT_SEED = 20121  # the split's own seed (not --seed): every network is judged on the same test digits
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")  # linear: a deep linear network, for contrast
MAX_DEPTH = 20
MAX_WIDTH = 256
# Judging many images, each forward pass takes as many rows as keep its largest products array (inputs x rows x
# outputs, tutor.engine.exact.matmul) within this many elements: 8 MB. Rows are independent: chunks change no bits.
EVAL_ELEMENTS = 1 << 20

# Stream numbers of exact.stream_key: the split, layer k's initial weights, epoch e's order.
_SPLIT_STREAM = 0
_INIT_STREAM = 1
_EPOCH_STREAM = 1_000_000


@cache
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 images as rows of 64 pixels divided by 16 (float), and their digits (int)."""
    text = gzip.decompress((resources.files("tutor.engine") / "data" / DATA_FILE).read_bytes()).decode("ascii")
    # Whole numbers separated by commas and line ends: numpy's text reader at ~2 ms (loadtxt took ~15 ms, before
    # a digits lesson's first frame). It stops at anything else, so the count says whether the file was read whole.
    values = np.fromstring(text.replace("\n", ","), dtype=np.int64, sep=",")
    if values.size != IMAGES * (PIXELS + 1):
        raise ProblemError(f"{DATA_FILE}: {values.size} numbers, not {IMAGES} rows of {PIXELS + 1}")
    table = values.reshape(IMAGES, PIXELS + 1)
    pixels = table[:, :PIXELS].astype(float) / 16.0
    pixels.setflags(write=False)
    labels = table[:, PIXELS].copy()
    labels.setflags(write=False)
    return pixels, labels


@cache
def split() -> tuple[np.ndarray, np.ndarray]:
    """The rows of the training set and of the test set, each in data-set order."""
    order = exact.random_order(exact.stream_key(SPLIT_SEED, _SPLIT_STREAM), IMAGES)
    test, train = np.sort(order[:TEST_ROWS]), np.sort(order[TEST_ROWS:])
    train.setflags(write=False)
    test.setflags(write=False)
    return train, test


TRAIN_ROWS = IMAGES - TEST_ROWS


class Layer(NamedTuple):
    """Where one layer's W and b sit in the flat parameter vector."""

    name: str  # "1".."depth" for the hidden layers, "out" for the logits
    inputs: int
    outputs: int
    weights: slice
    biases: slice

    def W(self, x: np.ndarray) -> np.ndarray:
        """The layer's weights in x, as a view of shape (inputs, outputs)."""
        return x[self.weights].reshape(self.inputs, self.outputs)

    def b(self, x: np.ndarray) -> np.ndarray:
        return x[self.biases]


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    """act(z), in a new array (z is kept for the backward pass)."""
    if name == "sigmoid":  # 1 / (1 + exp(-z)), each operation into exp's array
        e = exact.exp(np.negative(z))
        np.add(e, ONE, e)
        return np.divide(ONE, e, e)
    if name == "tanh":  # (1 - e) / (1 + e) with e = exp(-2|z|), the sign of z put back: no inf / inf
        e = exact.exp(np.multiply(_MINUS_TWO, np.abs(z)))
        top = np.subtract(ONE, e)
        np.add(ONE, e, e)
        np.divide(top, e, e)
        return np.copysign(e, z, e)
    if name == "relu":
        return np.maximum(z, _ZERO)
    return z


def _back_through(name: str, upstream: np.ndarray, z: np.ndarray, h: np.ndarray) -> np.ndarray:
    """dLoss/dz = dLoss/dh * act'(z), from the activation h = act(z); it may write into `upstream`."""
    if name == "sigmoid":  # act' = h * (1 - h)
        slope = np.subtract(ONE, h)
        np.multiply(slope, h, slope)
    elif name == "tanh":
        slope = np.multiply(h, h)
        np.subtract(ONE, slope, slope)
    elif name == "relu":
        slope = np.greater(z, _ZERO).astype(float)
    else:
        return upstream  # act' = 1
    return np.multiply(upstream, slope, upstream)


class Forward(NamedTuple):
    inputs: list[np.ndarray]  # h_0 .. h_depth: what each layer multiplies
    pre: list[np.ndarray]  # z_1 .. z_depth (hidden layers only)
    logits: np.ndarray


def _whole_number(name: str, value: Any, low: int, high: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProblemError(f"{name} must be a whole number from {low} to {high}{why}, not {value!r}")


@dataclass(frozen=True)
class Digits:
    """A multilayer perceptron classifying the 8x8 handwritten digits (see the module's docstring).

    `depth` hidden layers of `width` units with `activation`; initial weights uniform in
    [-a, a] with a = scale * sqrt(3 / inputs) (standard deviation scale / sqrt(inputs)), biases 0;
    mini-batches of `batch` training images, in an order reshuffled every epoch; `seed` picks the
    initial weights and the orders.
    """

    depth: int = 6
    width: int = 32
    activation: str = "sigmoid"
    scale: float = 1.0
    seed: int = 0
    batch: int = 32
    kind: ClassVar[str] = "digits"
    view = "network"  # the visualizer view that draws it; unannotated, so not a dataclass field

    def __post_init__(self) -> None:
        _whole_number("depth", self.depth, 1, MAX_DEPTH, " (hidden layers)")
        _whole_number("width", self.width, 1, MAX_WIDTH, " (units per hidden layer)")
        _whole_number("batch", self.batch, 1, TRAIN_ROWS, " (the training set's size)")
        _whole_number("seed", self.seed, 0, 2**32 - 1)
        if self.activation not in ACTIVATIONS:
            raise ProblemError(f"unknown activation {self.activation!r} for digits; known: {', '.join(ACTIVATIONS)}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)) or not 0 < self.scale <= 100:
            raise ProblemError(f"scale must be a number > 0 and <= 100, not {self.scale!r}")
        if self.update_cost > cost.MAX_UPDATE_COST:
            raise ProblemError(
                f"a network of {self.size:,} parameters in batches of {self.batch} costs about {self.update_cost:,.0f}"
                f" matrix updates per update, more than the {cost.MAX_UPDATE_COST:,} (30-75 ms) that keep the app"
                " answering: use a smaller width, depth or batch"
            )

    # -- the parameters --------------------------------------------------------------

    @property
    def layers(self) -> tuple[Layer, ...]:
        return _layout(self.depth, self.width)

    @property
    def size(self) -> int:
        return self.layers[-1].biases.stop

    @property
    def update_cost(self) -> float:
        """About how many updates of the seed's 5x5 matrix one update of this network costs (tutor/engine/cost.py)."""
        return cost.update_cost(self)

    def start(self) -> np.ndarray:
        x = np.zeros(self.size)
        for index, layer in enumerate(self.layers):
            a = self.scale * math.sqrt(3.0 / layer.inputs)
            u = exact.random_uniform(exact.stream_key(self.seed, _INIT_STREAM + index), layer.inputs * layer.outputs)
            x[layer.weights] = a * (2.0 * u - 1.0)
        return x

    def layer_of(self, flat_index: int) -> int:
        """The index of the layer whose W or b holds parameter `flat_index`."""
        return next((i for i, layer in enumerate(self.layers) if flat_index < layer.biases.stop), len(self.layers) - 1)

    def element_label(self, flat_index: int) -> str:
        """`W3:4,7` (layer 3's weight from input 4 to unit 7) or `b3:7` for a flat parameter index."""
        layer = self.layers[self.layer_of(flat_index)]
        if flat_index >= layer.biases.start:
            return f"b{layer.name}:{flat_index - layer.biases.start}"
        row, column = divmod(flat_index - layer.weights.start, layer.outputs)
        return f"W{layer.name}:{row},{column}"

    # -- the mini-batches ------------------------------------------------------------

    @property
    def batches_per_epoch(self) -> int:
        """Full batches per pass over the training set (the last partial batch is left out; the next epoch reshuffles)."""
        return TRAIN_ROWS // self.batch

    def epoch_order(self, epoch: int) -> np.ndarray:
        return _epoch_order(self.seed, epoch)

    def batch_rows(self, step: int) -> np.ndarray:
        """The rows of the data set in the mini-batch of the update that starts at `step` (0, 1, ...)."""
        epoch, position = divmod(step, self.batches_per_epoch)
        return self.epoch_order(epoch)[position * self.batch : (position + 1) * self.batch]

    # -- the network -----------------------------------------------------------------

    def forward(self, x: np.ndarray, pixels: np.ndarray) -> Forward:
        h = pixels
        inputs, pre = [h], []
        for layer in self.layers[:-1]:
            z = exact.matmul(h, layer.W(x))
            z += layer.b(x)
            h = _activate(self.activation, z)
            pre.append(z)
            inputs.append(h)
        out = self.layers[-1]
        logits = exact.matmul(h, out.W(x))
        logits += out.b(x)
        return Forward(inputs, pre, logits)

    def _losses(self, logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each row's cross-entropy, and the shifted exponentials and their sums (for the gradient)."""
        top = np.maximum.reduce(logits, axis=1, keepdims=True)  # np.max; exp of logits - top is at most 1: no overflow
        shifted = logits - top
        e = exact.exp(shifted)
        total = exact.ordered_sum(e, axis=1)
        losses = exact.log(total) - shifted[np.arange(len(labels)), labels]
        return losses, e, total

    def batch_loss_and_grad(self, x: np.ndarray, step: int) -> tuple[float, np.ndarray]:
        """The mini-batch loss at x and its gradient, for the update that starts at `step`."""
        pixels, labels = load_digits()
        rows = self.batch_rows(step)
        return self.loss_and_grad(x, pixels[rows], labels[rows])

    def loss_and_grad(self, x: np.ndarray, pixels: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean cross-entropy over the rows given, and its gradient, backpropagated op by op."""
        with np.errstate(all="ignore"):  # overflow is a diverged run, drawn as such, not a warning
            return self._loss_and_grad(x, pixels, labels)

    def _loss_and_grad(self, x: np.ndarray, pixels: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        count = len(labels)
        run = self.forward(x, pixels)
        losses, e, total = self._losses(run.logits, labels)
        loss = float(exact.ordered_sum(losses, axis=0) / count)
        grad = np.empty_like(x)
        delta = np.divide(e, total[:, np.newaxis], out=e)  # softmax
        delta[np.arange(count), labels] -= 1.0
        delta /= count  # dLoss/dlogits
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            h = run.inputs[index]
            exact.matmul(h.T, delta, out=layer.W(grad))  # dLoss/dW = h^T delta
            exact.ordered_sum(delta, axis=0, out=grad[layer.biases])  # dLoss/db = delta summed over the rows
            if index:
                upstream = exact.matmul(delta, layer.W(x).T)  # dLoss/dh_{index}
                delta = _back_through(self.activation, upstream, run.pre[index - 1], h)  # dLoss/dz_{index}
        return loss, grad

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The gradient over the whole training set (in data-set order)."""
        pixels, labels = load_digits()
        train, _ = split()
        return self.loss_and_grad(x, pixels[train], labels[train])[1]

    def loss(self, x: np.ndarray) -> float:
        """The mean loss over the whole training set (step 0's loss; later steps record their mini-batch's)."""
        return self.evaluate(x, "train")[0]

    def evaluate(self, x: np.ndarray, part: str = "test") -> tuple[float, float]:
        """Mean loss and accuracy (share of digits whose largest logit is the right one) on the test or training set."""
        key = (self, hashlib.blake2b(x.tobytes(), digest_size=16).digest(), part)
        judged = _JUDGED.get(key)
        if judged is None:
            if len(_JUDGED) >= MAX_JUDGED:
                _JUDGED.clear()
            judged = _JUDGED[key] = _evaluate(self, x, part)
        return judged

    def predictions(self, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The network's guess (0..9) for each row of the data set given."""
        pixels, _ = load_digits()
        with np.errstate(all="ignore"):
            return np.argmax(self.forward(x, pixels[rows]).logits, axis=1)

    # -- the Problem protocol --------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "depth": self.depth,
            "width": self.width,
            "activation": self.activation,
            "scale": self.scale,
            "seed": self.seed,
            "batch": self.batch,
        }

    def title(self) -> str:
        return f"digits: {self.depth} {self.activation} layers of {self.width}, batches of {self.batch}"


class LayerStatistics(NamedTuple):
    """How one layer's weights W are learning at a record (biases left out, as in Karpathy's diagnostic)."""

    name: str
    grad_rms: float  # sqrt(mean(g^2)) over W: the gradient's size
    sqrt_v_rms: float | None  # sqrt(mean(v)): the optimizer's running gradient size (None without a mean square)
    step_size: float  # the median of W's per-weight step size lr/(sqrt(v)+eps) (lr for gradient descent)
    update_ratio: float  # log10(std(change of W this update) / std(W)); about -3 is a healthy pace


def as_network(problem: object) -> Digits:
    """`problem` as the digits network, for the code that draws or traces one (a ValueError for another problem)."""
    if not isinstance(problem, Digits):
        raise ValueError(f"this needs the digits network, not {getattr(problem, 'kind', problem)!r}")
    return problem


def layer_statistics(problem: Digits, before: np.ndarray, record: Any) -> list[LayerStatistics]:
    """Per layer, the numbers the layer bars draw, for the update that took the parameters from `before` to `record`.

    The step size is a median: weights fed by a pixel that is 0 in every image never get a
    gradient, keep v = 0 and a step size of lr/eps, and would swamp a mean.
    """
    stats = []
    v = record.buffers.get("mean_square")
    with np.errstate(all="ignore"):
        for layer in problem.layers:
            w = layer.W(record.x)
            g = np.zeros_like(w) if record.grad is None else layer.W(record.grad)
            change = w - layer.W(before)
            spread = float(np.std(w))
            moved = float(np.std(change))
            ratio = math.log10(moved / spread) if moved > 0 and spread > 0 else -math.inf
            stats.append(
                LayerStatistics(
                    layer.name,
                    float(np.sqrt(np.mean(g * g))),
                    None if v is None else float(np.sqrt(np.mean(layer.W(v)))),
                    float(np.median(layer.W(record.effective_step))),
                    ratio,
                )
            )
    return stats


@cache
def _layout(depth: int, width: int) -> tuple[Layer, ...]:
    sizes = [PIXELS] + [width] * depth + [CLASSES]
    layers, offset = [], 0
    for k in range(len(sizes) - 1):
        inputs, outputs = sizes[k], sizes[k + 1]
        weights = slice(offset, offset + inputs * outputs)
        biases = slice(weights.stop, weights.stop + outputs)
        layers.append(Layer(str(k + 1) if k < depth else "out", inputs, outputs, weights, biases))
        offset = biases.stop
    return tuple(layers)


@lru_cache(maxsize=4)
def _epoch_order(seed: int, epoch: int) -> np.ndarray:
    train, _ = split()
    order = train[exact.random_order(exact.stream_key(seed, _EPOCH_STREAM + epoch), len(train))]
    order.setflags(write=False)
    return order


_JUDGED: dict[tuple[Digits, bytes, str], tuple[float, float]] = {}  # by the parameters' digest: charts ask again
MAX_JUDGED = 20_000


def eval_chunk(problem: Digits) -> int:
    """Rows per forward pass when judging many images (the default network: 512, the whole test set in one)."""
    largest = max(layer.inputs * layer.outputs for layer in problem.layers)
    return max(1, EVAL_ELEMENTS // largest)


def _evaluate(problem: Digits, x: np.ndarray, part: str) -> tuple[float, float]:
    pixels, labels = load_digits()
    train, test = split()
    rows = test if part == "test" else train
    losses, right = [], []
    with np.errstate(all="ignore"):
        size = eval_chunk(problem)
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            logits = problem.forward(x, pixels[chunk]).logits
            losses.append(problem._losses(logits, labels[chunk])[0])
            right.append(np.argmax(logits, axis=1) == labels[chunk])
        loss = float(exact.ordered_sum(np.concatenate(losses), axis=0) / len(rows))
    return loss, float(np.mean(np.concatenate(right)))
