#!/usr/bin/env bash
# One lent-GPU call: a smoke run, then two runs side by side at the paper-like widths 48-96-192-384
# (a: KL 0.1, b: KL 0.03), each 2 stages (lr 2e-4, then --init from it at lr 5e-5).
# Brings back each stage-2 last/ checkpoint as float16 (to fit the transfer), logs, val.csv, some grids.
set -u
export OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 PYTHONUNBUFFERED=1
PACK=data/celeba64_q80.npz
R=/tmp/runs
S1=${S1:-5.0}
S2=${S2:-1.75}
COMMON="--data $PACK --widths 48 96 192 384 --bf16 --threads 4 --epochs 1000 --no-progress --sample-minutes 100"
mkdir -p $R
nvidia-smi -L
python3 -c "import torch, torchvision, huggingface_hub, safetensors, cv2; print('torch', torch.__version__, 'tv', torchvision.__version__, 'hf', huggingface_hub.__version__, torch.cuda.get_device_name())"
t0=$(date +%s)
timeout 150 python3 -m training.train $COMMON --out $R/smoke --limit 320 --val-limit 64 --epochs 1 > $R/smoke.log 2>&1
rc=$?
tail -5 $R/smoke.log
if [ $rc -ne 0 ] || [ ! -f $R/smoke/best/model.safetensors ]; then echo "SMOKE FAILED rc=$rc"; cp $R/smoke.log $OUT/; exit 3; fi
echo "smoke ok in $(( $(date +%s) - t0 )) s"

run() {  # name kl
  timeout $(python3 -c "print(int($S1*60+90))") python3 -m training.train $COMMON --out $R/$1_s1 --weight kl=$2 --max-minutes $S1 > $R/$1_s1.log 2>&1
  timeout $(python3 -c "print(int($S2*60+90))") python3 -m training.train $COMMON --out $R/$1_s2 --weight kl=$2 --init $R/$1_s1/last --lr 5e-5 --max-minutes $S2 > $R/$1_s2.log 2>&1
}
run a 0.1 &
sleep 5
run b 0.03 &
sleep 60; nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
wait
echo "training done at $(( $(date +%s) - t0 )) s"

mkdir -p $R/back
for s in a_s1 a_s2 b_s1 b_s2; do
  echo "== $s"; grep -E "^epoch=" $R/$s.log | tail -2; tail -1 $R/$s.log
  tail -1 $R/$s/log.csv
  mkdir -p $R/back/$s/samples
  cp $R/$s.log $R/$s/args.json $R/$s/val.csv $R/$s/log.csv $R/back/$s/ 2>/dev/null
  cp $R/$s/best/metrics.json $R/back/$s/best_metrics.json 2>/dev/null
  ls $R/$s/samples | awk 'NR % 8 == 0 || /final/' | while read f; do cp $R/$s/samples/$f $R/back/$s/samples/; done
done
for s in a_s1 a_s2 b_s2; do
  python3 eval/gpu_wide/export_half.py $R/$s/last $R/back/$s/last16
done
du -sh $R/back
tar cf - -C $R/back . | split -b 15M -d - $OUT/runs.tar.
ls -la $OUT
