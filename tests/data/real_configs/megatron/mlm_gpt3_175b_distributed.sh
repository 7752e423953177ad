# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/gpt3/train_gpt3_175b_distributed.sh
# license: BSD-3-Clause
# trimmed: env export and comments removed; defaults substituted (GPUS_PER_NODE=8 NUM_NODES=1
#   MASTER_ADDR=localhost MASTER_PORT=29500); the positional CHECKPOINT_PATH=$1 TENSORBOARD_LOGS_PATH=$2
#   VOCAB_FILE=$3 MERGE_FILE=$4 DATA_PATH=$5 written as /path/to/... . The schedule string is kept as ONE
#   argument, as the script author wrote it ("..." inside the array); the script's unquoted
#   ${TRAINING_ARGS[@]} expansion would in fact split it into six words. The script also passes
#   --global-batch-size, which megatron/training/arguments.py at this commit rejects together with
#   --step-batch-size-schedule ("Cannot specify both").
torchrun --nproc_per_node 8 --nnodes 1 --master_addr localhost --master_port 29500 pretrain_gpt.py \
    --num-layers 96 \
    --hidden-size 12288 \
    --num-attention-heads 96 \
    --seq-length 2048 \
    --max-position-embeddings 2048 \
    --attention-backend auto \
    --micro-batch-size 1 \
    --global-batch-size 1536 \
    --step-batch-size-schedule "0:16 2.4B:320 4.8B:624 7.2B:928 9.6B:1232 12B:1536" \
    --train-iters 500000 \
    --weight-decay 0.1 \
    --adam-beta1 0.9 \
    --adam-beta2 0.95 \
    --init-method-std 0.006 \
    --clip-grad 1.0 \
    --fp16 \
    --lr 6.0e-5 \
    --lr-decay-style cosine \
    --min-lr 6.0e-6 \
    --lr-warmup-fraction .001 \
    --lr-decay-iters 430000 \
    --tensor-model-parallel-size 8 \
    --pipeline-model-parallel-size 16 \
    --data-path /path/to/my-gpt3_00_text_document \
    --vocab-file /path/to/gpt2-vocab.json \
    --merge-file /path/to/gpt2-merges.txt \
    --split 949,50,1 \
    --log-interval 100 \
    --save-interval 10000 \
    --eval-interval 1000 \
    --save /path/to/checkpoints \
    --load /path/to/checkpoints \
    --eval-iters 10 \
    --tensorboard-dir /path/to/tensorboard_logs
