"""Measurements of ESC-Net: parameters, FLOPs, speed and memory.

One module per measurement, each a function returning its figures and a
``format_*`` function printing them; ``tools/analysis_tools/`` holds the
command lines:

* :mod:`.params`: parameters per part (built on the meta device).
* :mod:`.flops`: FLOPs per part of one crop and of the config's test mode.
* :mod:`.compare`: two models timed in alternation.
* :mod:`.chunking`: class chunking, time and peak memory per chunk size.
* :mod:`.protocol`: one image in the test mode per vocabulary size.
* :mod:`.train_memory`: one training step's peak memory per vocabulary size.
* :mod:`.sam_block_speed`: the fast SAM block against SAM's own layer.
* :mod:`.ppg_speed`: the PPG op (needs only torch).
* :mod:`.gpu_report`, :mod:`.gpu_report_markdown`: the GPU check's figures.

Models are built with random weights (:mod:`.build`); CPU peaks are
measured in fresh processes (:mod:`.fresh_process`).
"""
