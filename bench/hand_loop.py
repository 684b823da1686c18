"""The hand-written diffusers loop a user would write instead of a runner: load once, one image per seed.

python bench/hand_loop.py MODEL_FOLDER SEEDS OUT_DIR [WIDTH HEIGHT STEPS [DEVICE]]
"""

import sys
from pathlib import Path

import torch
from diffusers import StableDiffusionPipeline

model, seeds, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
width, height, steps = (int(v) for v in sys.argv[4:7]) if len(sys.argv) > 4 else (64, 64, 4)
device = sys.argv[7] if len(sys.argv) > 7 else "cpu"
out.mkdir(parents=True)
pipe = StableDiffusionPipeline.from_pretrained(model, safety_checker=None, torch_dtype=torch.float32).to(device)
pipe.set_progress_bar_config(disable=True)
for seed in range(seeds):
    generator = torch.Generator("cpu").manual_seed(seed)
    image = pipe("a red fox", width=width, height=height, num_inference_steps=steps, guidance_scale=7.5,
                 generator=generator).images[0]  # fmt: skip
    image.save(out / f"{seed}.png")
