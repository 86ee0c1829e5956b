"""Screen training recipes at full budget on a GPU with the torch replica; one JSON row per config.

    python gpu_screen.py --gguf FILE --data .gpu --out DIR [--run run1|run2] [--only NAME ...]
        [--budget-s 420]

Every configuration starts from the same base weights and LoRA seed, trains on the same
update groups the CPU trainer would draw (seed 0), and is probed every `probe_every` updates:
greedy decoding after the start of a Code Mode call on the valid split's requests (241; the
64 the CPU run's probe uses are reported apart), the first tool named before a `(`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from replica import Llama, MlxAdam, load_gguf_weights, lr_at  # noqa: E402

# punie_train.sampling needs only DatasetError from punie_train.dataset, whose own imports
# (the sandbox, mlx) the GPU machine lacks: a stand-in module supplies it.
if "punie_train.dataset" not in sys.modules:
    import types

    _dataset = types.ModuleType("punie_train.dataset")
    _dataset.DatasetError = type("DatasetError", (ValueError,), {})  # type: ignore[attr-defined]
    sys.modules["punie_train.dataset"] = _dataset

from punie_train.sampling import update_group  # noqa: E402

PREFIX = 383
SAMPLES: list[str] = []
BASE: dict[str, Any] = {
    "mix": "add", "weighting": "turn", "balance": "tool", "per_update": 16, "updates": 80,
    "lr": 3e-4, "scale": 20.0, "rank": 8, "num_layers": -1, "warmup": 10, "probe_every": 20,
    "file": "mix.npz", "share": 1.0, "seed": 0, "dropout": 0.0, "lr_b": 1.0, "extra": None,
    "ema": 0.0,
}  # fmt: skip
RUN1: dict[str, dict[str, Any]] = {
    "default": {},
    "lr1e-3": {"lr": 1e-3},
    "calls-only": {"mix": "only"},
    "default-x3": {"updates": 240, "probe_every": 40},
    "token-weight": {"weighting": "token"},
    "call-weight3": {"weighting": "turn_call3"},
    "no-balance": {"balance": "none"},
    "chats-only": {"mix": "none"},
    "scale2-lr1e-3": {"scale": 2.0, "lr": 1e-3},
    "rank32": {"rank": 32},
    "lr1e-4": {"lr": 1e-4},
    "upd32x40": {"per_update": 32, "updates": 40, "probe_every": 10},
    "upd8x160": {"per_update": 8, "updates": 160, "probe_every": 40},
    "top8-layers": {"num_layers": 8},
    "calls-only-x3": {"mix": "only", "updates": 240, "probe_every": 40},
    "calls-only-lr1e-3": {"mix": "only", "lr": 1e-3},
}
"""Run 1 (run1/): the levers one at a time against the default, 80 updates unless named."""
RUN2: dict[str, dict[str, Any]] = {
    "turns-only-x2": {"mix": "only", "file": "mix_turn.npz", "updates": 160, "probe_every": 40},
    "calls-only-x2": {"mix": "only", "updates": 160, "probe_every": 40},
    "turns-only-x3": {"mix": "only", "file": "mix_turn.npz", "updates": 240, "probe_every": 40},
    "turns-only-x2-lr5e-4": {
        "mix": "only",
        "file": "mix_turn.npz",
        "updates": 160,
        "probe_every": 40,
        "lr": 5e-4,
    },
    "turns-add-x2": {"mix": "add", "file": "mix_turn.npz", "updates": 160, "probe_every": 40},
}
"""Run 2 (run2/): call examples cut after the whole calling turn, and budgets between 80 and 240."""
DEFAULT_NOW: dict[str, Any] = {
    "per_update": 8, "updates": 160, "weighting": "turn_call3", "probe_every": 40,
}  # fmt: skip
RUN3: dict[str, dict[str, Any]] = {
    "long-code": {**DEFAULT_NOW, "file": "mix_long.npz"},
    "short-code": {**DEFAULT_NOW, "file": "mix_short.npz"},
    "short-code-turns": {**DEFAULT_NOW, "file": "mix_short_turn.npz"},
    "short-code-120": {**DEFAULT_NOW, "file": "mix_short.npz", "updates": 120},
    "short-code-turns-120": {**DEFAULT_NOW, "file": "mix_short_turn.npz", "updates": 120},
    "short-code-80": {**DEFAULT_NOW, "file": "mix_short.npz", "updates": 80},
}
"""Run 3 (run3/): the templates' long code against the short code (issue 13), the default recipe
of 2026-11-26 (160 updates of 8, calling turns x3), both probed on the short data's valid split;
the final probe decodes 160 tokens and keeps the replies for a type check on the CPU."""
TURNS_NOW: dict[str, Any] = {**DEFAULT_NOW, "file": "mix_short_turn.npz"}
RUN4: dict[str, dict[str, Any]] = {
    "turns-4x320": {**TURNS_NOW, "per_update": 4, "updates": 320, "probe_every": 80},
    "turns-4x240": {**TURNS_NOW, "per_update": 4, "updates": 240, "probe_every": 80},
    "turns-8x160-lr5e-4": {**TURNS_NOW, "lr": 5e-4},
    "turns-4x320-lr2e-4": {
        **TURNS_NOW, "per_update": 4, "updates": 320, "probe_every": 80, "lr": 2e-4,
    },
}  # fmt: skip
"""Run 4 (run4/): the new default (short code, turn cut) with smaller, more updates and other
learning rates, on the same 240 probe requests as run 3."""
NOW: dict[str, Any] = {**TURNS_NOW, "lr": 5e-4, "file": "mix_now.npz"}
RUN5: dict[str, dict[str, Any]] = {
    "default": NOW,
    "lr7e-4": {**NOW, "lr": 7e-4},
    "name2": {**NOW, "weighting": "turn_call3_name2"},
    "call6": {**NOW, "weighting": "turn_call6"},
    "share0.3-200": {**NOW, "share": 0.3, "updates": 200},
    "share0.3-200-lr7e-4": {**NOW, "share": 0.3, "updates": 200, "lr": 7e-4},
}  # fmt: skip
"""Run 5 (run5/): the default of 2026-11-26 (short code, turn cut, 160 updates of 8, lr 5e-4,
calling turns x3; data with every first call opening `result = `) against a name weight of 2,
calling turns x6, lr 7e-4, and 30% of the chats trained whole with the CPU minutes saved spent
on more updates (200 updates: the same estimated CPU cost as 160 of the full mix)."""
RUN6: dict[str, dict[str, Any]] = {
    "name2-share0.3-200": {**NOW, "weighting": "turn_call3_name2", "share": 0.3, "updates": 200},
    "name2-200": {**NOW, "weighting": "turn_call3_name2", "updates": 200},
}
"""Run 6 (run6/): run 5's two gains together, and the name weight at 200 updates (the cost of
more updates of the whole mix)."""
WINNER: dict[str, Any] = {**NOW, "weighting": "turn_call3_name2", "share": 0.3, "updates": 200}
RUN7: dict[str, dict[str, Any]] = {
    "name2-share0.3-160": {**WINNER, "updates": 160},
    "name2-share0.3-200-seed1": {**WINNER, "seed": 1},
}
"""Run 7 (run7/): the new default at 160 updates (43 estimated CPU minutes: issue 13's budget),
and the new default with another seed (LoRA draw and update groups): the noise of one run."""
RUN8: dict[str, dict[str, Any]] = {
    "default": WINNER,
    "default-seed1": {**WINNER, "seed": 1},
    "contrast": {**WINNER, "file": "mix_contrast.npz"},
    "contrast-seed1": {**WINNER, "file": "mix_contrast.npz", "seed": 1},
    "default-dropout0.1": {**WINNER, "dropout": 0.1},
}
"""Run 8 (run8/): the default of 2026-11-27 on the default data and on the data with the
contrast templates (requests that name the cue separating neighbouring tools), two seeds each,
judged on the held-out requests (`heldout.npz`) as well as the valid split."""
CONTRAST: dict[str, Any] = {**WINNER, "file": "mix_contrast.npz", "ema": 0.95}
RUN9: dict[str, dict[str, Any]] = {
    "name4": {**CONTRAST, "weighting": "turn_call3_name4"},
    "loraplus4": {**CONTRAST, "lr_b": 4.0},
    "line-first-add": {**CONTRAST, "extra": "mix_contrast_line.npz", "updates": 230},
    "share0.15": {**CONTRAST, "share": 0.15, "updates": 210},
    "loraplus16-lr2.5e-4": {**CONTRAST, "lr": 2.5e-4, "lr_b": 16.0},
}
"""Run 9 (run9/): the default of 2026-11-27 (the contrast data) against one change each: name
weight 4, LoRA+ (B's learning rate x4; A at 2.5e-4 and B x16), the line-cut call examples of
every chat's first calling turn added to the pool (more requests per CPU minute), fewer whole
chats (15%); every configuration's final weights also judged as an EMA (decay 0.95 per update).
Updates are set per configuration for about the default's estimated CPU minutes."""
NAME4: dict[str, Any] = {**CONTRAST, "weighting": "turn_call3_name4"}
RUN10: dict[str, dict[str, Any]] = {
    "name4-seed1": {**NAME4, "seed": 1},
    "name4-share0.15": {**NAME4, "share": 0.15, "updates": 210},
    "name4-line-first-add": {**NAME4, "extra": "mix_contrast_line.npz", "updates": 230},
    "name8": {**CONTRAST, "weighting": "turn_call3_name8"},
}
"""Run 10 (run10/): run 9's winner (name weight 4) with another seed, name weight 8, and name
weight 4 together with each of run 9's two other gains."""
CONTEXT: dict[str, Any] = {**CONTRAST, "file": "mix_context.npz"}
RUN11: dict[str, dict[str, Any]] = {
    "context": CONTEXT,
    "context-seed1": {**CONTEXT, "seed": 1},
    "dropout0.1": {**CONTRAST, "dropout": 0.1},
    "dropout0.1-seed1": {**CONTRAST, "dropout": 0.1, "seed": 1},
    "context-dropout0.1": {**CONTEXT, "dropout": 0.1},
    "name8": {**CONTRAST, "weighting": "turn_call3_name8"},
}
"""Run 11 (run11/): the default of 2026-11-27 (contrast data, name weight 2) against background
sentences beside 27.5% of the train requests (`results/context-sentences/`: developer chatter
such as "CI went red after the last merge." before or after the request; data/context33) and
against LoRA dropout 0.1, two seeds each; then both together, and run 10's name weight 8."""
RUN12: dict[str, dict[str, Any]] = {
    "dropout0.2": {**CONTRAST, "dropout": 0.2},
    "dropout0.2-seed1": {**CONTRAST, "dropout": 0.2, "seed": 1},
}
"""Run 12 (run12/): run 11's winner's knob turned further, LoRA dropout 0.2, on both seeds."""
RUNS = {
    "run1": RUN1, "run2": RUN2, "run3": RUN3, "run4": RUN4, "run5": RUN5, "run6": RUN6,
    "run7": RUN7, "run8": RUN8, "run9": RUN9, "run10": RUN10,
    "run11": RUN11,
    "run12": RUN12,
}  # fmt: skip
FINAL_TOKENS = 160


class Mix:
    def __init__(self, path: Path) -> None:
        z = np.load(path)
        self.tokens, self.offsets = z["tokens"].astype(np.int64), z["offsets"]
        self.tpos, self.toff = z["tpos"], z["toff"]
        self.keys, self.full, self.chat = z["keys"], z["full"], z["chat"]
        self.w = {k[2:]: z[k] for k in z.files if k.startswith("w_")}

    def subset(self, mix: str, share: float = 1.0, seed: int = 0) -> np.ndarray:
        with_calls = set(self.chat[~self.full].tolist())
        if mix == "add" and share < 1.0:
            # punie_train.mix.whole_chats: a seeded share of the calling chats is trained whole
            count = int(self.chat.max()) + 1
            chosen = np.random.default_rng([seed, 11]).permutation(count)[: round(share * count)]
            whole = set(chosen.tolist())
            keep = ~self.full | np.array([c in whole or c not in with_calls for c in self.chat])
            return np.nonzero(keep)[0]
        if mix == "add":
            return np.arange(len(self.keys))
        if mix == "none":
            return np.nonzero(self.full)[0]
        keep = ~self.full | np.array([c not in with_calls for c in self.chat])
        return np.nonzero(keep)[0]

    def with_first_calls(self, other: Mix) -> Mix:
        """This mix plus `other`'s call example of each chat's first calling turn.

        `other` is the same dataset prepared with another cut (chat indices agree).
        """
        calls = np.nonzero(~other.full)[0]
        firsts = calls[np.unique(other.chat[calls], return_index=True)[1]]
        firsts.sort()

        def appended(
            values: np.ndarray, offsets: np.ndarray, extra: np.ndarray, ends: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray]:
            """`values` (rows cut by `offsets`) followed by `extra`'s rows of `firsts`."""
            rows = [extra[ends[i] : ends[i + 1]] for i in firsts]
            more = offsets[-1] + np.cumsum([len(r) for r in rows])
            return np.concatenate([values, *rows]), np.concatenate([offsets, more])

        out = Mix.__new__(Mix)
        out.tokens, out.offsets = appended(self.tokens, self.offsets, other.tokens, other.offsets)
        out.tpos, out.toff = appended(self.tpos, self.toff, other.tpos, other.toff)
        out.keys = np.concatenate([self.keys, other.keys[firsts]])
        out.full = np.concatenate([self.full, other.full[firsts]])
        out.chat = np.concatenate([self.chat, other.chat[firsts]])
        out.w = {k: appended(w, self.toff, other.w[k], other.toff)[0] for k, w in self.w.items()}
        return out

    def example(self, i: int, weighting: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = self.tokens[self.offsets[i] : self.offsets[i + 1]]
        a, b = self.toff[i], self.toff[i + 1]
        return t, self.tpos[a:b], self.w[weighting][a:b]


def probe(
    model: Llama,
    prompts: list[np.ndarray],
    names: list[str],
    tok: Any,
    device: str,
    steps: int = 40,
    texts: list[str] | None = None,
) -> list[str]:
    chosen = []
    SAMPLES.clear()
    with torch.no_grad():
        for start in range(0, len(prompts), 128):
            rows = prompts[start : start + 128]
            n = max(len(r) for r in rows)
            b = len(rows)
            ids = torch.zeros(b, n, dtype=torch.long)
            valid = torch.zeros(b, n, dtype=torch.bool)
            for j, r in enumerate(rows):
                ids[j, n - len(r) :] = torch.from_numpy(r.astype(np.int64))
                valid[j, n - len(r) :] = True
            ids, valid = ids.to(device), valid.to(device)
            pos = (valid.long().cumsum(1) - 1).clamp(min=0)
            causal = torch.ones(n, n, dtype=torch.bool, device=device).tril()
            mask = (causal[None] & valid[:, None, :]) | torch.eye(
                n, dtype=torch.bool, device=device
            )[None]
            cache: list = [None] * model.n_layers
            h = model.hidden(ids, pos, mask[:, None], cache)
            out = []
            nxt = (h[:, -1] @ model.embed.T).argmax(-1)
            last = pos[:, -1]
            for _ in range(steps):
                out.append(nxt)
                last = last + 1
                valid = torch.cat([valid, torch.ones(b, 1, dtype=torch.bool, device=device)], 1)
                h = model.hidden(nxt[:, None], last[:, None], valid[:, None, None, :], cache)
                nxt = (h[:, -1] @ model.embed.T).argmax(-1)
            gen = torch.stack(out, 1).cpu().numpy()
            for row in gen:
                text = tok.decode(row.tolist(), skip_special_tokens=False)
                if texts is not None:
                    texts.append(text)
                if len(SAMPLES) < 3:
                    SAMPLES.append(text[:100])
                pick = "(none)"
                for k, m in enumerate(re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)?\s*\(", text)):
                    if k >= 3:
                        break
                    if m.group(1) in names:
                        pick = m.group(1)
                        break
                chosen.append(pick)
    return chosen


def prompt_rows(z: Any) -> list[np.ndarray]:
    """Each request's prompt tokens from a probe file (probe.npz, heldout.npz)."""
    return [z["tokens"][z["offsets"][i] : z["offsets"][i + 1]] for i in range(len(z["expected"]))]


def heldout_score(model: Llama, hz: Any, names: list[str], tok: Any, device: str) -> dict[str, Any]:
    """First tool on the held-out requests: overall, per category, and each request's choice."""
    chosen = probe(model, prompt_rows(hz), names, tok, device, 40)
    expected = [str(x) for x in hz["expected"]]
    categories = [str(x) for x in hz["category"]]
    per: dict[str, list[int]] = {}
    for c, e, cat in zip(chosen, expected, categories, strict=True):
        per.setdefault(cat, [0, 0])
        per[cat][0] += c == e
        per[cat][1] += 1
    right = sum(c == e for c, e in zip(chosen, expected, strict=True))
    print(f"  held-out {right}/{len(expected)}", json.dumps(per), flush=True)
    return {
        "right": right,
        "total": len(expected),
        "per_category": per,
        "chosen": dict(zip([str(x) for x in hz["ids"]], chosen, strict=True)),
    }


def ema_scores(
    model: Llama,
    params: list[torch.nn.Parameter],
    ema: list[torch.Tensor],
    prompts: list[np.ndarray],
    expected: list[str],
    heldout: Any,
    names: list[str],
    tok: Any,
) -> dict[str, Any]:
    """The valid probe and held-out score of the EMA weights (the trained ones put back after)."""
    device = str(params[0].device)
    saved = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p, e in zip(params, ema, strict=True):
            p.copy_(e)
    chosen = probe(model, prompts, names, tok, device, 40)
    out: dict[str, Any] = {
        "probe_all": float(np.mean([c == e for c, e in zip(chosen, expected, strict=True)]))
    }
    if heldout is not None:
        out["heldout"] = heldout_score(model, heldout, names, tok, device)
    with torch.no_grad():
        for p, s_ in zip(params, saved, strict=True):
            p.copy_(s_)
    print("  ema", json.dumps({"probe_all": out["probe_all"]}), flush=True)
    return out


def train(
    name: str,
    knobs: dict[str, Any],
    weights: dict,
    mix: Mix,
    pz: Any,
    tok: Any,
    device: str,
    out: Path,
    micro: int,
    run: str = "run1",
    heldout: Any = None,
) -> None:
    k = {**BASE, **knobs}
    torch.manual_seed(k["seed"])
    model = Llama(weights, device, k["rank"], k["scale"], k["num_layers"], k["dropout"])
    params = model.lora_parameters()
    factors = [k["lr_b"] if n.endswith(".b") else 1.0 for n in model.lora_names()]
    opt = MlxAdam(params, factors)
    ema = [p.detach().clone() for p in params] if k["ema"] else None
    sub = mix.subset(k["mix"], k["share"], k["seed"])
    lengths = np.diff(mix.offsets)[sub]
    keys = [str(x) for x in mix.keys[sub]] if k["balance"] == "tool" else None
    cache: dict[int, list[np.ndarray]] = {}
    prompts = prompt_rows(pz)
    expected = [str(x) for x in pz["expected"]]
    in64 = pz["in64"]
    names = [str(x) for x in pz["names"]]
    curve, cpu_tokens, tic, losses = [], 0, time.perf_counter(), []
    for update in range(k["updates"]):
        group = sub[update_group(lengths, k["per_update"], k["seed"], update, cache, keys)]
        exs = [mix.example(int(i), k["weighting"]) for i in group]
        losses.append(0.0)
        for c in range(0, len(exs), micro):
            part = exs[c : c + micro]
            n = max(len(t) for t, _, _ in part)
            ids = torch.zeros(len(part), n, dtype=torch.long)
            bi, pi, tg, wt = [], [], [], []
            for j, (t, tp, w) in enumerate(part):
                ids[j, : len(t)] = torch.from_numpy(t)
                bi.append(np.full(len(tp), j))
                pi.append(tp - 1)
                tg.append(t[tp])
                wt.append(w / len(exs))
            h = model.hidden(ids.to(device))
            rows = torch.from_numpy(np.concatenate(bi)).to(device)
            cols = torch.from_numpy(np.concatenate(pi)).to(device)
            logits = h[rows, cols] @ model.embed.T
            target = torch.from_numpy(np.concatenate(tg).astype(np.int64)).to(device)
            ce = F.cross_entropy(logits, target, reduction="none")
            loss = (ce * torch.from_numpy(np.concatenate(wt)).to(device)).sum()
            loss.backward()
            losses[-1] += float(loss)
        suffix = sum(len(t) - PREFIX for t, _, _ in exs)
        cpu_tokens += PREFIX * max(1, -(-suffix // (3072 - PREFIX))) + suffix
        opt.step(lr_at(update, k["lr"], k["updates"], k["warmup"]))
        if ema is not None:
            with torch.no_grad():
                for e, p in zip(ema, params, strict=True):
                    e.mul_(k["ema"]).add_(p, alpha=1 - k["ema"])
        done = update + 1
        if done % k["probe_every"] == 0 or done == k["updates"]:
            final = done == k["updates"] and run not in ("run1", "run2")
            texts: list[str] = []
            chosen = probe(model, prompts, names, tok, device, FINAL_TOKENS if final else 40, texts)
            hits = np.array([c == e for c, e in zip(chosen, expected, strict=True)])
            per_tool: dict[str, list[bool]] = {}
            for e, h_ in zip(expected, hits, strict=True):
                per_tool.setdefault(e, []).append(bool(h_))
            worst = sorted((float(np.mean(v)), t) for t, v in per_tool.items())[:5]
            curve.append(
                {
                    "update": done,
                    "probe_all": float(hits.mean()),
                    "probe64": float(hits[in64].mean()),
                    "train_loss": float(np.mean(losses[-10:])),
                    "cpu_tokens": cpu_tokens,
                    "gpu_s": time.perf_counter() - tic,
                    "samples": list(SAMPLES),
                    "worst": worst,
                }
            )
            if final:
                curve[-1]["texts"] = texts
            if done == k["updates"] and heldout is not None:
                curve[-1]["heldout"] = heldout_score(model, heldout, names, tok, device)
            if done == k["updates"] and ema is not None:
                curve[-1]["ema"] = ema_scores(
                    model, params, ema, prompts, expected, heldout, names, tok
                )
            shown = {k: v for k, v in curve[-1].items() if k != "texts"}
            print(name, json.dumps(shown), flush=True)
    row = {"name": name, "knobs": k, "curve": curve}
    with (out / "results.jsonl").open("a") as f:
        f.write(json.dumps(row) + "\n")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--gguf", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--run", choices=sorted(RUNS), default="run2", help="which table to rerun")
    p.add_argument("--only", nargs="*")
    p.add_argument("--budget-s", type=float, default=420)
    p.add_argument("--device", default="cuda")
    p.add_argument("--micro", type=int, default=8, help="examples per forward/backward pass")
    p.add_argument("--updates", type=int, default=0, help="override updates (smoke test)")
    p.add_argument("--probe-limit", type=int, default=0, help="probe only the first N (smoke test)")
    a = p.parse_args()
    start = time.perf_counter()
    torch.backends.cuda.matmul.allow_tf32 = True
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(a.data / "tokenizer.json"))
    weights = load_gguf_weights(a.gguf)
    mixes = {path.name: Mix(path) for path in sorted(a.data.glob("mix*.npz"))}
    pz = dict(np.load(a.data / "probe.npz"))
    held = a.data / "heldout.npz"
    hz = dict(np.load(held)) if held.exists() else None
    if a.probe_limit:
        limit = a.probe_limit
        end = int(pz["offsets"][limit])
        pz = {**pz, "tokens": pz["tokens"][:end], "offsets": pz["offsets"][: limit + 1],
              "expected": pz["expected"][:limit], "in64": pz["in64"][:limit]}  # fmt: skip
    a.out.mkdir(parents=True, exist_ok=True)
    print(f"loaded in {time.perf_counter() - start:.1f}s", flush=True)
    for name, knobs in RUNS[a.run].items():
        if a.only and name not in a.only:
            continue
        if time.perf_counter() - start > a.budget_s:
            print("budget spent; skipped", name, flush=True)
            continue
        if a.updates:
            knobs = {**knobs, "updates": a.updates, "probe_every": a.updates}
        full = {**BASE, **knobs}
        mix = mixes[full["file"]]
        if full["extra"]:
            mix = mix.with_first_calls(mixes[full["extra"]])
        train(name, knobs, weights, mix, pz, tok, a.device, a.out, a.micro, a.run, hz)


if __name__ == "__main__":
    main()
