# Environment knobs of OpenBLAS and glibc malloc against the plain run: two rounds of
# four processes, each timing two updates after a warm-up (results/speed-profile/perf_updates.py).
# bash results/speed-profile/env_ab.sh   (from the repository root)
for round in 1 2; do
for cfg in base thr mal both; do
  case $cfg in
    base) E="";;
    thr) E="OPENBLAS_THREAD_TIMEOUT=4";;
    mal) E="MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=8589934592 MALLOC_TOP_PAD_=1073741824";;
    both) E="OPENBLAS_THREAD_TIMEOUT=4 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=8589934592 MALLOC_TOP_PAD_=1073741824";;
  esac
  r=$(env $E PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-profile/perf_updates.py 2 2>&1 | grep '^update' | awk '{print $3}' | tr '\n' ' ')
  echo "$round $cfg $r"
done; done
