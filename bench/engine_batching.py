"""What batching can gain at most: the pipeline itself, 4 single calls against one call of 4 seeds.

Loads tiny-sd once and alternates the two, a round at a time; prints the per-image seconds of each round as
JSON (``{"single": [...], "batched": [...]}``). The runner cannot batch faster than its engine, so this is the
ceiling of the runner-batching figure. ``python bench/engine_batching.py [ROUNDS] [BATCH]``.
"""

import json
import sys
import time

import torch
from diffusers import StableDiffusionPipeline

from abstractvision.builtin import ensure_builtin

rounds, batch = (int(v) for v in sys.argv[1:3]) if len(sys.argv) > 2 else (3, 4)
pipe = StableDiffusionPipeline.from_pretrained(ensure_builtin("tiny-sd"), safety_checker=None)
pipe.set_progress_bar_config(disable=True)


def per_image_s(seeds: list[int], per_call: int) -> float:
    start = time.perf_counter()
    for first in range(0, len(seeds), per_call):
        generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds[first : first + per_call]]
        pipe("a red fox", width=64, height=64, num_inference_steps=4, guidance_scale=7.5,
             num_images_per_prompt=len(generators), generator=generators)  # fmt: skip
    return (time.perf_counter() - start) / len(seeds)


per_image_s([0], 1)  # warm-up: first-call allocations
seeds = list(range(4 * batch))
times = {"single": [], "batched": []}
for _ in range(rounds):
    times["single"].append(per_image_s(seeds, 1))
    times["batched"].append(per_image_s(seeds, batch))
print(json.dumps(times))
