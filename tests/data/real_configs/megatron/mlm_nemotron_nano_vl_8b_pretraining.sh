# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/multimodal/llama_3p1_nemotron_nano_vl_8b_v1/pretraining_llama_3p1_nemotron_nano_vl_8b_v1.sh
# license: BSD-3-Clause
# trimmed: env exports, srun wrapping and comments removed. The script detects batch mode with `which srun`;
#   in interactive mode it forces DEBUG=1 (BZ=1 on 4 GPUs), so the batch (production) mode is substituted:
#   DEBUG=0 USE_TILING=1: MBZ=1 BZ=1024 NW=8 AD=0.0 HD=0.0 LI=5 TP=4, SEQ_LEN=256 (tiling) DECODER_SEQ_LEN=4096,
#   EXTRA_ARGS=" --pixel-shuffle --use-tiling --max-num-tiles 12 --use-thumbnail". Its command is
#   "python -u ${SOURCE}/examples/multimodal/train.py ${OPTIONS}" run by `sh -c`, which turns the escaped
#   \<image\> ... of --special-tokens into nine separate <...> arguments (quoted here for the shell).
#   WORKSPACE="<some dir>" written as /path/to/workspace, SOURCE=`pwd` as . , LOAD_NAME (unset) left empty as
#   the script does (so "output//checkpoints").
python -u ./examples/multimodal/train.py \
    --use-checkpoint-args \
    --disable-bias-linear \
    --tokenizer-type MultimodalTokenizer \
    --tokenizer-model meta-llama/Llama-3.1-8B-Instruct \
    --transformer-impl transformer_engine \
    --normalization RMSNorm \
    --group-query-attention \
    --num-query-groups 8 \
    --no-masked-softmax-fusion \
    --attention-softmax-in-fp32 \
    --attention-dropout 0.0 \
    --hidden-dropout 0.0 \
    --untie-embeddings-and-output-weights \
    --position-embedding-type rope \
    --rotary-percent 1.0 \
    --rotary-base 500000 \
    --use-rope-scaling \
    --swiglu \
    --tensor-model-parallel-size 4 \
    --pipeline-model-parallel-size 1 \
    --num-layers 32 \
    --hidden-size 4096 \
    --ffn-hidden-size 14336 \
    --num-attention-heads 32 \
    --use-distributed-optimizer \
    --use-te \
    --num-workers 8 \
    --exit-duration-in-mins 230 \
    --seq-length 256 \
    --decoder-seq-length 4096 \
    --max-position-embeddings 131072 \
    --train-samples 1491231 \
    --lr-warmup-samples 102400 \
    --micro-batch-size 1 \
    --global-batch-size 1024 \
    --lr 2e-4 \
    --min-lr 0.0 \
    --lr-decay-style cosine \
    --log-interval 5 \
    --eval-iters 10 \
    --eval-interval 500 \
    --data-path ./examples/multimodal/llama_3p1_nemotron_nano_vl_8b_v1/pretrain_blend.yaml \
    --prompt-path ./examples/multimodal/manual_prompts.json \
    --save-interval 5000 \
    --save /path/to/workspace/output/pretraining_llama_3p1_nemotron_nano_vl_8b_v1/checkpoints \
    --load /path/to/workspace/output/pretraining_llama_3p1_nemotron_nano_vl_8b_v1/checkpoints \
    --dataloader-save /path/to/workspace/output/pretraining_llama_3p1_nemotron_nano_vl_8b_v1/checkpoints/dataloader \
    --pretrained-checkpoint /path/to/workspace/output//checkpoints \
    --split 100,0,0 \
    --clip-grad 1.0 \
    --weight-decay 1e-2 \
    --adam-beta1 0.9 \
    --adam-beta2 0.999 \
    --init-method-std 0.02 \
    --log-params-norm \
    --log-num-zeros-in-grad \
    --bf16 \
    --eod-mask-loss \
    --freeze-ViT \
    --freeze-LM \
    --patch-dim 16 \
    --img-h 512 \
    --img-w 512 \
    --dataloader-type external \
    --tensorboard-dir /path/to/workspace/output/pretraining_llama_3p1_nemotron_nano_vl_8b_v1/tensorboard \
    --language-model-type=llama3.1_8b \
    --pixel-shuffle --use-tiling --max-num-tiles 12 --use-thumbnail \
    --distributed-timeout-minutes 60 \
    --allow-missing-vision-projection-checkpoint \
    --vision-model-type radio \
    --tokenizer-prompt-format llama3p1 \
    --use-loss-scaling \
    --special-tokens '<image>' '<img>' '</img>' '<quad>' '</quad>' '<ref>' '</ref>' '<box>' '</box>' \
    --ckpt-format torch \
    --image-tag-type internvl \
    --force-system-message \
    --disable-vision-class-token \
    --use-area-weighted-aspect-ratio \
    --inference-max-seq-length 32768
