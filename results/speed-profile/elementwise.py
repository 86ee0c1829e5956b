# ruff: noqa: E402 - a throwaway measurement script: paths and BLAS set before the imports
import sys

sys.path.insert(0, ".")
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import time

import mlx.core as mx

x = mx.random.normal((8 * 1024 * 1024,))
mx.eval(x)


def t(f, n=5):
    mx.eval(f(x))
    s = time.perf_counter()
    for _ in range(n):
        mx.eval(f(x))
    return (time.perf_counter() - s) / n * 1e3


print("mul ms", t(lambda a: a * 1.5))
print("exp ms", t(mx.exp))
print("sigmoid ms", t(mx.sigmoid))
print("tanh ms", t(mx.tanh))
print("silu(nn) ms", t(lambda a: a * mx.sigmoid(a)))
print("softmax ms", t(lambda a: mx.softmax(a.reshape(-1, 512), axis=-1)))


def pexp(a):
    # exp via 2^(a*log2e): n=floor, f=frac, poly
    y = a * 1.4426950408889634
    n = mx.floor(y)
    f = y - n
    p = 1 + f * (
        0.6931471805599453
        + f
        * (
            0.2402265069591007
            + f * (0.05550410866482158 + f * (0.009618129107628477 + f * 0.0013333558146428443))
        )
    )
    return p * mx.power(2.0, n)


print("poly exp ms", t(pexp))
cp = mx.compile(pexp)
print("compiled poly exp ms", t(cp))
cs = mx.compile(lambda a: a * mx.sigmoid(a))
print("compiled silu ms", t(cs))
print("maxerr", mx.max(mx.abs(cp(x) / mx.exp(x) - 1)).item())
