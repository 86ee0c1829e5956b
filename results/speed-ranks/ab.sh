#!/usr/bin/env bash
# One process against two ranks on this machine (mlx.launch, ring backend, one BLAS thread each),
# the default recipe on the default data, 8 updates each, alternated for two rounds.
#   [ROUNDS=2] bash results/speed-ranks/ab.sh [DATA]   (from the repository root; writes /tmp/speed-ranks)
# Seconds per update come from each run's train_log.jsonl (results/speed-ranks/table.py).
set -euo pipefail
DATA=${1:-data/contrast33}
OUT=/tmp/speed-ranks
export PYTHONPATH=.:plugins
COMMON=(--data "$DATA" --skip-eval --iters 64 --steps-per-report 8 --steps-per-eval 100000
        --save-every 100000)
for round in $(seq 1 "${ROUNDS:-2}"); do
  rm -rf "$OUT/one-$round" "$OUT/two-$round"
  .venv/bin/python -m punie_train --run-dir "$OUT/one-$round" "${COMMON[@]}" \
      > "$OUT-one-$round.log" 2>&1
  .venv/bin/mlx.launch --backend ring -n 2 --env OPENBLAS_NUM_THREADS=1 -- \
      .venv/bin/python -m punie_train --run-dir "$OUT/two-$round" "${COMMON[@]}" \
      > "$OUT-two-$round.log" 2>&1
done
