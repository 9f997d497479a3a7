#!/usr/bin/env bash
# Second lent-GPU call: the ablation's four variants trained side by side for the same 3000 steps
# (the training half of python -m training.ablation); the evaluations run on the CPU afterwards.
set -u
export OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 PYTHONUNBUFFERED=1
R=/tmp/abl
mkdir -p $R/back
t0=$(date +%s)
declare -A OFF=([full]="" [no_aux]="--weight aux=0" [no_gan]="--weight gan=0" [no_cls_rec]="--weight cls_rec=0")
for v in full no_aux no_gan no_cls_rec; do
  timeout 250 python3 -m training.train --data data/celeba64_q80.npz --out $R/$v --max-steps ${STEPS:-3000} --epochs 1000 \
    --bf16 --threads 3 --no-progress --max-minutes 2.7 ${OFF[$v]} > $R/$v.log 2>&1 &
  sleep 2
done
sleep 45; nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
wait
echo "trained in $(( $(date +%s) - t0 )) s"
for v in full no_aux no_gan no_cls_rec; do
  echo "== $v"; tail -2 $R/$v.log; tail -1 $R/$v/log.csv
  mkdir -p $R/back/$v
  cp $R/$v.log $R/$v/args.json $R/$v/log.csv $R/$v/val.csv $R/back/$v/ 2>/dev/null
  python3 eval/gpu_wide/export_half.py $R/$v/last $R/back/$v/last16
done
tar cf - -C $R/back . | split -b 15M -d - $OUT/abl.tar.
ls -la $OUT
