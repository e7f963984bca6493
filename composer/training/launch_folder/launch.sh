#!/usr/bin/env bash
# Runs train.py with torchrun on this node of @NODES@ (by default: the plan's @DEVICES@ device(s), @NPROC@ a node).
#
#   ./launch.sh [--nodes N] [--node-rank R] [--rdzv HOST:PORT] [--nproc-per-node P] [train.py options]
#
# On each of N nodes run the same command with that node's rank (0 to N-1) and the address of node 0
# (any free port), e.g. ./launch.sh --nodes 2 --node-rank 1 --rdzv 10.0.0.1:29500 --steps 1000.
# PYTHON names the interpreter (default python3). Options it does not know go to train.py (--help).
set -euo pipefail
nodes=@NODES@
node_rank=0
rdzv=127.0.0.1:29500
nproc=@NPROC@
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --node-rank) node_rank="$2"; shift 2 ;;
    --rdzv) rdzv="$2"; shift 2 ;;
    --nproc-per-node) nproc="$2"; shift 2 ;;
    *) break ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" -m torch.distributed.run \
  --nnodes "$nodes" --node-rank "$node_rank" --nproc-per-node "$nproc" \
  --master-addr "${rdzv%:*}" --master-port "${rdzv##*:}" \
  "$here/train.py" "$@"
