"""Hydra multirun the naive way users do it today: every job loads the diffusers pipeline and makes one image.

python bench/naive_hydra/app.py -m model=FOLDER 'seed=range(0,8)' [hydra/launcher=joblib hydra.launcher.n_jobs=2]
"""

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig


@hydra.main(version_base=None, config_path="conf", config_name="config")
def make_image(cfg: DictConfig) -> None:
    import torch
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(cfg.model, safety_checker=None, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    generator = torch.Generator("cpu").manual_seed(cfg.seed)
    image = pipe(cfg.prompt, width=cfg.width, height=cfg.height, num_inference_steps=cfg.steps,
                 guidance_scale=cfg.guidance_scale, generator=generator).images[0]  # fmt: skip
    image.save(Path(HydraConfig.get().runtime.output_dir) / f"{cfg.seed}.png")


if __name__ == "__main__":
    make_image()
