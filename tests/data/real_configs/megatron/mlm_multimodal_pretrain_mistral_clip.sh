# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/multimodal/pretrain_mistral_clip.sh
# license: BSD-3-Clause
# trimmed: env exports, the WORKSPACE/LOAD_NAME checks and comments removed; defaults substituted
#   (DEBUG=0: BZ=256 NW=2 HD=0.1 LI=10 EXTRA_ARGS=""); the required WORKSPACE written as /path/to/workspace,
#   LOAD_NAME as mistral_clip_combined, SOURCE=`pwd` as . , so FINETUNE_DIR=/path/to/workspace/output/
#   mcore-llava-mistral-7b-instruct-clip336-pretraining/checkpoints. Multimodal: --seq-length is the image
#   encoder's (576), --decoder-seq-length the language model's (1024). Note the --flag=value form of
#   --language-model-type.
torchrun --nproc_per_node 8 examples/multimodal/train.py \
    --apply-layernorm-1p \
    --attention-softmax-in-fp32 \
    --use-checkpoint-args \
    --no-use-tokenizer-model-from-checkpoint-args \
    --use-distributed-optimizer \
    --transformer-impl transformer_engine \
    --use-te \
    --normalization RMSNorm \
    --group-query-attention \
    --num-query-groups 8 \
    --no-masked-softmax-fusion \
    --num-workers 2 \
    --exit-duration-in-mins 230 \
    --use-flash-attn \
    --untie-embeddings-and-output-weights \
    --disable-bias-linear \
    --position-embedding-type rope \
    --rotary-percent 1.0 \
    --rotary-base 1000000 \
    --swiglu \
    --attention-dropout 0.0 \
    --hidden-dropout 0.1 \
    --tensor-model-parallel-size 4 \
    --pipeline-model-parallel-size 1 \
    --num-layers 32 \
    --hidden-size 4096 \
    --num-attention-heads 32 \
    --seq-length 576 \
    --decoder-seq-length 1024 \
    --max-position-embeddings 4096 \
    --ffn-hidden-size 14336 \
    --train-iters 20000 \
    --micro-batch-size 1 \
    --global-batch-size 256 \
    --lr-decay-iters 20000 \
    --lr-warmup-fraction .01 \
    --lr 0.00015 \
    --min-lr 1.0e-5 \
    --lr-decay-style cosine \
    --log-interval 10 \
    --eval-iters 10 \
    --eval-interval 1000 \
    --tokenizer-type MultimodalTokenizer \
    --tokenizer-model mistralai/Mistral-7B-Instruct-v0.3 \
    --tokenizer-prompt-format mistral \
    --data-path ./examples/multimodal/pretrain_dataset.yaml \
    --prompt-path ./examples/multimodal/manual_prompts.json \
    --save-interval 1000 \
    --save /path/to/workspace/output/mcore-llava-mistral-7b-instruct-clip336-pretraining/checkpoints \
    --load /path/to/workspace/output/mcore-llava-mistral-7b-instruct-clip336-pretraining/checkpoints \
    --dataloader-save /path/to/workspace/output/mcore-llava-mistral-7b-instruct-clip336-pretraining/checkpoints/dataloader \
    --pretrained-checkpoint /path/to/workspace/mistral_clip_combined/checkpoints \
    --split 100,0,0 \
    --clip-grad 1.0 \
    --weight-decay 1e-2 \
    --adam-beta1 0.9 \
    --adam-beta2 0.95 \
    --init-method-std 0.014 \
    --log-params-norm \
    --log-num-zeros-in-grad \
    --bf16 \
    --eod-mask-loss \
    --freeze-LM \
    --freeze-ViT \
    --patch-dim 14 \
    --img-h 336 \
    --img-w 336 \
    --dataloader-type external \
    --tensorboard-dir /path/to/workspace/output/mcore-llava-mistral-7b-instruct-clip336-pretraining/tensorboard \
    --language-model-type=mistral_7b \
    --disable-vision-class-token \
    --distributed-timeout-minutes 60 \
    --allow-missing-vision-projection-checkpoint \
    --ckpt-format torch
