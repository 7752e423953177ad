# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/academic_paper_scripts/sc21/run_table_1.sh
# license: BSD-3-Clause
# trimmed: run_table_1.sh sets the case variables, CONFIG.sh builds MEGATRON_PARAMS, SBATCH.sh/SRUN.sh launch
#   "python -u ${MEGATRON_CODE_DIR}/pretrain_gpt.py ${MEGATRON_PARAMS}" under srun. Substituted the
#   script's default case (MODEL_SIZE=1.7B: TP=1 PP=1 MBS=16 GBS=512 NLS=24 HS=2304 NAH=24 DDP=torch NNODES=4) and CONFIG.sh's flags in CONFIG.sh's
#   order (MEGATRON_EXTRA_PARAMS first); SLURM/docker wrapping removed; the <...> placeholders of CONFIG.sh
#   (code dir, data prefix, vocab and merge files) written as pretrain_gpt.py and /path/to/...
python -u pretrain_gpt.py \
    --activations-checkpoint-method uniform \
    --tensor-model-parallel-size 1 \
    --pipeline-model-parallel-size 1 \
    --micro-batch-size 16 \
    --global-batch-size 512 \
    --num-layers 24 \
    --hidden-size 2304 \
    --num-attention-heads 24 \
    --DDP-impl torch \
    --data-path /path/to/megatron_processed_data \
    --vocab-file /path/to/bpe_vocab_file \
    --merge-file /path/to/bpe_merges_file \
    --log-interval 5 \
    --seq-length 2048 \
    --max-position-embeddings 2048 \
    --train-iters 500 \
    --lr-decay-iters 320 \
    --lr 0.0001 \
    --min-lr 0.00001 \
    --lr-decay-style cosine \
    --lr-warmup-fraction 0.01 \
    --split 969,30,1 \
    --eval-iters 100 \
    --eval-interval 1000 \
    --clip-grad 1.0 \
    --fp16 \
    --loss-scale 8192
