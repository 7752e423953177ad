# source: NVIDIA/Megatron-LM@df61e60bf5670b1196fcae2264311401d3bb82db:examples/mamba/train.sh
# license: BSD-3-Clause
# trimmed: the first version of the script (June 2024, "Add mamba"). Env exports, mkdir and the
#   MODEL_SCALE case statement removed; the default MODEL_SCALE="800M" substituted
#   (TENSOR_MODEL_PARALLEL_SIZE=1 NUM_LAYERS=48 HIDDEN_SIZE=1024 NUM_ATTENTION_HEADS=16
#   GLOBAL_BATCH_SIZE=32) with SEQ_LEN=4096 TRAIN_SAMPLES=73242188 LR_WARMUP_SAMPLES=50000
#   LR_DECAY_SAMPLES=73192188 and the directories ./checkpoints ./data-cache ./tensorboard. The script's
#   positional DATA_PATH=$1 is written as three unweighted prefixes (Megatron's "prefix1 prefix2 ..." form)
#   and TOKENIZER_PATH=$2 as /path/to/tokenizer.model.
torchrun --nproc_per_node 8 ../../pretrain_mamba.py \
       --tensor-model-parallel-size 1 \
       --sequence-parallel \
       --pipeline-model-parallel-size 1 \
       --use-distributed-optimizer \
       --overlap-param-gather \
       --overlap-grad-reduce \
       --untie-embeddings-and-output-weights \
       --init-method-std 0.02 \
       --position-embedding-type none \
       --num-layers 48 \
       --hidden-size 1024 \
       --num-attention-heads 16 \
       --group-query-attention \
       --num-query-groups 8 \
       --hybrid-attention-ratio 0.08 \
       --hybrid-mlp-ratio 0.5 \
       --seq-length 4096 \
       --max-position-embeddings 4096 \
       --train-samples 73242188 \
       --lr-warmup-samples 50000 \
       --lr-decay-samples 73192188 \
       --save ./checkpoints \
       --load ./checkpoints \
       --data-path /path/to/shard_00_text_document /path/to/shard_01_text_document /path/to/shard_02_text_document \
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
       --spec megatron.core.models.mamba.mamba_layer_specs mamba_stack_spec \
       --no-create-attention-mask-in-dataloader \
       --tensorboard-dir ./tensorboard
