"""The order examples are trained in: seeded epochs of update-sized groups; the validation subset.

Everything here is a function of (seed, epoch) or (seed, update), so a resumed run replays
the same order. `balanced_order` gives every tool about the same share of an epoch (or a
share growing with the square root of its examples).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from punie_train.dataset import DatasetError


def epoch_groups(
    lengths: np.ndarray,
    group_size: int,
    seed: int,
    epoch: int,
    keys: Sequence[str] | None = None,
    power: float = 0.0,
) -> list[np.ndarray]:
    """One epoch's update groups: a seeded shuffle, lengths sorted within windows, groups shuffled.

    Sorting within windows of 8 groups keeps the examples of an update close in length (little
    padding) while the windows stay random. Deterministic in (seed, epoch), so a resumed run
    replays the same order. The last `len % group_size` examples of an epoch wait for the next.
    With `keys` (the tool each example teaches), the epoch is `balanced_order` instead of a
    plain shuffle: every tool about equally often (`power` 0), or in proportion to its
    examples to the `power`.
    """
    count = len(lengths)
    if count < group_size:
        raise DatasetError(
            f"{count} training examples, fewer than one update's {group_size} "
            "(batch_size x grad_accumulation_steps)"
        )
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(count) if keys is None else balanced_order(keys, seed, epoch, power)
    window = group_size * 8
    groups: list[np.ndarray] = []
    for start in range(0, count, window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        groups += [
            chunk[i : i + group_size] for i in range(0, len(chunk) - group_size + 1, group_size)
        ]
    return [groups[i] for i in rng.permutation(len(groups))]


def balanced_order(keys: Sequence[str], seed: int, epoch: int, power: float = 0.0) -> np.ndarray:
    """An epoch of `len(keys)` example indices whose keys get shares set by `power`.

    A key's share is proportional to its example count to the `power`: 0 makes every key
    about equally frequent, 0.5 gives a key with four times the examples twice the share.
    Each key gets the whole part of its share (the remainder slots go one each to keys in a
    seeded order that turns with the epoch); a key with fewer examples than slots repeats
    them, one with more takes the next slice of a fixed seeded permutation of its examples,
    so successive epochs cover them all. Deterministic in (seed, epoch).
    """
    names = sorted(set(keys))
    members = {name: np.nonzero(np.asarray(keys) == name)[0] for name in names}
    ranked = [names[i] for i in np.random.default_rng([seed, 3]).permutation(len(names))]
    weight = {name: float(len(members[name])) ** power for name in names}
    total = sum(weight.values())
    whole = {name: int(len(keys) * weight[name] / total) for name in names}
    extra = len(keys) - sum(whole.values())
    chosen = []
    for rank, name in enumerate(ranked):
        pool = members[name]
        slots = whole[name] + (1 if (rank - epoch * extra) % len(names) < extra else 0)
        fixed = pool[np.random.default_rng([seed, 5, names.index(name)]).permutation(len(pool))]
        start = epoch * (whole[name] + 1)
        chosen.append(fixed[(start + np.arange(slots)) % len(pool)])
    order = np.concatenate(chosen)
    return order[np.random.default_rng([seed, epoch, 7]).permutation(len(order))]


def update_group(
    lengths: np.ndarray,
    group_size: int,
    seed: int,
    update: int,
    cache: dict[int, list[np.ndarray]],
    keys: Sequence[str] | None = None,
    power: float = 0.0,
) -> np.ndarray:
    """The example indices of optimizer update number `update` (0-based) in the endless stream."""
    per_epoch = (len(lengths) // group_size * group_size) // group_size
    epoch, index = divmod(update, max(per_epoch, 1))
    if epoch not in cache:
        cache.clear()
        cache[epoch] = epoch_groups(lengths, group_size, seed, epoch, keys, power)
    return cache[epoch][index]


def validation_subset(count: int, size: int, seed: int) -> np.ndarray:
    """A fixed seeded subset of the validation set (all of it when `size` is -1 or too big)."""
    order = np.random.default_rng([seed, 1 << 20]).permutation(count)
    return order if size < 0 else order[:size]
