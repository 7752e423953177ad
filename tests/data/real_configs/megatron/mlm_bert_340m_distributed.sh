# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/bert/train_bert_340m_distributed.sh
# license: BSD-3-Clause
# trimmed: env export and comments removed; defaults substituted (GPUS_PER_NODE=8 NUM_NODES=1
#   MASTER_ADDR=localhost MASTER_PORT=29500); positional CHECKPOINT_PATH=$1 TENSORBOARD_LOGS_PATH=$2
#   VOCAB_FILE=$3 DATA_PATH=$4 written as /path/to/... . Duplicated flags (--weight-decay, --clip-grad
#   appear twice in TRAINING_ARGS) are kept twice, as in the script.
torchrun --nproc_per_node 8 --nnodes 1 --master_addr localhost --master_port 29500 pretrain_bert.py \
    --num-layers 24 \
    --hidden-size 1024 \
    --num-attention-heads 16 \
    --seq-length 512 \
    --max-position-embeddings 512 \
    --attention-backend auto \
    --micro-batch-size 4 \
    --global-batch-size 32 \
    --train-iters 1000000 \
    --weight-decay 1e-2 \
    --clip-grad 1.0 \
    --fp16 \
    --lr 0.0001 \
    --lr-decay-iters 990000 \
    --lr-decay-style linear \
    --min-lr 1.0e-5 \
    --weight-decay 1e-2 \
    --lr-warmup-fraction .01 \
    --clip-grad 1.0 \
    --tensor-model-parallel-size 8 \
    --pipeline-model-parallel-size 16 \
    --data-path /path/to/bert_text_document \
    --vocab-file /path/to/bert-vocab.json \
    --split 949,50,1 \
    --log-interval 100 \
    --save-interval 10000 \
    --eval-interval 1000 \
    --save /path/to/checkpoints \
    --load /path/to/checkpoints \
    --eval-iters 10 \
    --tensorboard-dir /path/to/tensorboard_logs
