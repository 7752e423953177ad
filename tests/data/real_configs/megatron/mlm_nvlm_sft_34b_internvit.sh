# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/multimodal/nvlm/sft_34b_internvit.sh
# license: BSD-3-Clause
# trimmed: env exports, the srun branch and comments removed; defaults substituted (BATCH unset, so the
#   interactive torchrun branch; DEBUG=0: MBZ=1 BZ=128 NW=2 LI=5 AD=0.0 HD=0.0 EXTRA_ARGS="";
#   SEQ_LEN=261 DECODER_SEQ_LEN=3200 MAX_POS_EMBED=3200); WORKSPACE="<some dir>" written as
#   /path/to/workspace, SOURCE=`pwd` as . , and the time-stamped MODEL_NAME
#   mcore-nous-yi34b-internvit-mlp-sft-${DATETIME} with DATETIME=25-01-01-00-00-00. Note the --flag=value
#   form of --tensorboard-dir.
torchrun --nproc_per_node 8 examples/multimodal/train.py \
    --swiglu \
    --use-distributed-optimizer \
    --num-workers 2 \
    --num-layers 60 \
    --hidden-size 7168 \
    --normalization RMSNorm \
    --num-attention-heads 56 \
    --exit-duration-in-mins 230 \
    --group-query-attention \
    --num-query-groups 8 \
    --ffn-hidden-size 20480 \
    --seq-length 261 \
    --decoder-seq-length 3200 \
    --max-position-embeddings 3200 \
    --tokenizer-type MultimodalTokenizer \
    --tokenizer-model NousResearch/Nous-Hermes-2-Yi-34B \
    --tokenizer-prompt-format nvlm-yi-34b \
    --vocab-size 64000 \
    --make-vocab-size-divisible-by 1 \
    --position-embedding-type rope \
    --rotary-percent 1.0 \
    --rotary-base 5000000 \
    --disable-bias-linear \
    --tensor-model-parallel-size 8 \
    --language-model-type yi-34b \
    --vision-model-type internvit \
    --micro-batch-size 1 \
    --global-batch-size 128 \
    --train-samples 30000000 \
    --lr-decay-samples 25600000 \
    --lr-warmup-samples 83200 \
    --lr 2e-6 \
    --min-lr 2.5e-7 \
    --lr-decay-style cosine \
    --split 100,0,0 \
    --clip-grad 10 \
    --weight-decay 0.1 \
    --adam-beta1 0.9 \
    --adam-beta2 0.95 \
    --init-method-std 0.014 \
    --attention-dropout 0.0 \
    --hidden-dropout 0.0 \
    --untie-embeddings-and-output-weights \
    --eod-mask-loss \
    --bf16 \
    --tensorboard-dir=/path/to/workspace/output/mcore-nous-yi34b-internvit-mlp-sft-25-01-01-00-00-00/tensorboard \
    --freeze-ViT \
    --img-h 448 \
    --img-w 448 \
    --patch-dim 14 \
    --data-path ./examples/multimodal/nvlm/sft_blend.yaml \
    --dataloader-type external \
    --dataloader-save /path/to/workspace/output/mcore-nous-yi34b-internvit-mlp-sft-25-01-01-00-00-00/checkpoints/dataloader \
    --prompt-path ./examples/multimodal/nvlm/nvlm_prompts.json \
    --log-interval 5 \
    --load /path/to/workspace/output/mcore-nous-yi34b-internvit-mlp-sft-25-01-01-00-00-00/checkpoints \
    --save /path/to/workspace/output/mcore-nous-yi34b-internvit-mlp-sft-25-01-01-00-00-00/checkpoints \
    --pretrained-checkpoint /path/to/workspace/output/mcore-nous-yi34b-internvit-mlp/checkpoints \
    --save-interval 5000 \
    --eval-interval 500 \
    --eval-iters 10 \
    --log-params-norm \
    --log-num-zeros-in-grad \
    --disable-vision-class-token \
    --use-te \
    --ckpt-format torch \
    --pixel-shuffle \
    --use-tiling \
    --max-num-tiles 6 \
    --use-thumbnail \
    --use-tile-tags \
    --image-tag-type nvlm
