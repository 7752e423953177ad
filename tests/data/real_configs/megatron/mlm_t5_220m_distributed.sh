# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/t5/train_t5_220m_distributed.sh
# license: BSD-3-Clause
# trimmed: env export and comments removed; defaults substituted (GPUS_PER_NODE=8 NUM_NODES=1 NODE_RANK=0
#   MASTER_ADDR=localhost MASTER_PORT=29500); positional CHECKPOINT_PATH=$1 TENSORBOARD_DIR=$2
#   VOCAB_FILE=$3 DATA_PATH=$4 written as /path/to/... . T5: --encoder-seq-length/--decoder-seq-length,
#   no --seq-length.
torchrun --nproc_per_node 8 --nnodes 1 --node_rank 0 --master_addr localhost --master_port 29500 pretrain_t5.py \
    --encoder-num-layers 12 \
    --decoder-num-layers 12 \
    --hidden-size 768 \
    --num-attention-heads 12 \
    --kv-channels 64 \
    --ffn-hidden-size 3072 \
    --encoder-seq-length 512 \
    --decoder-seq-length 128 \
    --max-position-embeddings 512 \
    --micro-batch-size 64 \
    --global-batch-size 512 \
    --lr 0.0001 \
    --train-iters 1000000 \
    --lr-decay-iters 1000000 \
    --lr-decay-style linear \
    --min-lr 0.00001 \
    --weight-decay 1e-2 \
    --lr-warmup-fraction .01 \
    --clip-grad 1.0 \
    --bf16 \
    --vocab-extra-ids 100 \
    --init-method-std 0.015 \
    --transformer-impl transformer_engine \
    --tensor-model-parallel-size 1 \
    --pipeline-model-parallel-size 1 \
    --attention-backend auto \
    --data-path /path/to/t5_text_document \
    --vocab-file /path/to/bert-large-cased-vocab.txt \
    --tokenizer-type BertWordPieceCase \
    --split 99982,9,9 \
    --log-interval 100 \
    --tensorboard-dir /path/to/tensorboard \
    --save-interval 500 \
    --eval-interval 1000 \
    --eval-iters 10 \
    --distributed-backend nccl \
    --save /path/to/checkpoints \
    --load /path/to/checkpoints
