# A TorchTitan 0.3 config registry (the config_registry.py form), written for the `lrplan import` example:
# `lrplan import torchtitan schedules/data/tt_registry.py --config pretrain`. lrplan reads it with `ast`;
# nothing here is run (and it does not run without TorchTitan).
from torchtitan.components.optimizer import LRSchedulersContainer, default_adamw
from torchtitan.config import TrainingConfig
from torchtitan.trainer import Trainer

STEPS = 100_000


def pretrain() -> Trainer.Config:
    return Trainer.Config(
        optimizer=default_adamw(lr=3e-4),
        lr_scheduler=LRSchedulersContainer.Config(
            warmup_steps=2000,
            decay_ratio=0.2,
            decay_type="sqrt",
            min_lr_factor=0.1,
        ),
        training=TrainingConfig(steps=STEPS, max_context_length=4096),
    )


def pretrain_short() -> Trainer.Config:
    config = pretrain()
    config.training.steps = STEPS // 10
    return config
