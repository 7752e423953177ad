# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/mamba/train.sh
# license: BSD-3-Clause
# trimmed: env exports, mkdir and the MODEL_SCALE case statement removed; the default MODEL_SCALE="800M"
#   substituted (TENSOR_MODEL_PARALLEL_SIZE=1, its HYBRID_LAYER_PATTERN, HIDDEN_SIZE=1024,
#   NUM_ATTENTION_HEADS=16, GLOBAL_BATCH_SIZE=32) with SEQ_LEN=4096 TRAIN_SAMPLES=73242188
#   LR_WARMUP_SAMPLES=50000 LR_DECAY_SAMPLES=73192188 and the directories ./checkpoints ./data-cache
#   ./tensorboard. The script takes DATA_PATH=$1 and TOKENIZER_PATH=$2; $1 is written here as a weighted
#   two-prefix blend ("weight prefix weight prefix", which the unquoted ${options} expansion splits into
#   four arguments, the multi-value form Megatron's --data-path takes) and $2 as /path/to/tokenizer.model.
#   The pattern is single-quoted here (it contains * and the script expands it unquoted, open to globbing).
torchrun --nproc_per_node 8 ../../pretrain_hybrid.py \
       --tensor-model-parallel-size 1 \
       --sequence-parallel \
       --pipeline-model-parallel-size 1 \
       --use-distributed-optimizer \
       --overlap-param-gather \
       --overlap-grad-reduce \
       --untie-embeddings-and-output-weights \
       --init-method-std 0.02 \
       --position-embedding-type none \
       --hybrid-layer-pattern 'M-M-M--M-*M-M-M-M--*M-M-M-M-*M--M-M-M-*M-M--M-M-' \
       --hidden-size 1024 \
       --num-attention-heads 16 \
       --group-query-attention \
       --num-query-groups 8 \
       --seq-length 4096 \
       --max-position-embeddings 4096 \
       --train-samples 73242188 \
       --lr-warmup-samples 50000 \
       --lr-decay-samples 73192188 \
       --save ./checkpoints \
       --load ./checkpoints \
       --data-path 0.7 /path/to/dataset_a_text_document 0.3 /path/to/dataset_b_text_document \
       --data-cache-path ./data-cache \
       --split 99,1,0 \
       --tokenizer-type GPTSentencePieceTokenizer \
       --tokenizer-model /path/to/tokenizer.model \
       --distributed-backend nccl \
       --micro-batch-size 4 \
       --global-batch-size 32 \
       --lr 2.5e-4 \
       --min-lr 2.5e-5 \
       --lr-decay-style cosine \
       --weight-decay 0.1 \
       --clip-grad 1.0 \
       --attention-dropout 0.0 \
       --hidden-dropout 0.0 \
       --disable-bias-linear \
       --normalization RMSNorm \
       --adam-beta1 0.9 \
       --adam-beta2 0.95 \
       --log-interval 10 \
       --save-interval 2000 \
       --eval-interval 2000 \
       --eval-iters 32 \
       --bf16 \
       --use-mcore-models \
       --spec megatron.core.models.hybrid.hybrid_layer_specs hybrid_stack_spec \
       --no-create-attention-mask-in-dataloader \
       --tensorboard-dir ./tensorboard
