r"""Benchmarks of escnet_mmseg: parameters, FLOPs, speed and memory.

    python tools/analysis_tools/benchmark.py params CONFIG
    python tools/analysis_tools/benchmark.py flops CONFIG --classes 150
    python tools/analysis_tools/benchmark.py compare CONFIG_A CONFIG_B \
        --classes 150 [--cfg-options model.test_cfg.class_chunk_size=32] \
        [--reference-sam a]
    python tools/analysis_tools/benchmark.py model CONFIG --classes 171 \
        --chunks 0 32
    python tools/analysis_tools/benchmark.py protocol CONFIG \
        --classes 20 150 847 2000
    python tools/analysis_tools/benchmark.py train-memory CONFIG \
        --classes 2 4 8 [--amp]
    python tools/analysis_tools/benchmark.py sam-block CONFIG --classes 32 \
        [--profile]
    python tools/analysis_tools/benchmark.py ppg [benchmark_ppg.py options]
    python tools/analysis_tools/benchmark.py gpu-report --device cuda \
        --out report.md [--ppg-json ppg.json] [--small]

Models are built with random weights (no CLIP or SAM file is read:
``pretrained`` and ``sam_checkpoint`` are cleared). ``params`` builds on the
meta device, so even ViT-L needs no memory.

* ``flops``: FLOPs of one inference per part, counted by
  ``torch.utils.flop_counter`` (matrix products and convolutions). Both
  conventions are printed: ``2 x multiply-add`` (torch's FlopCounter, most
  papers) and ``1 x multiply-add`` (fvcore, which CAT-Seg's and ESC-Net's
  Table 4 GFLOPs come from). One CLIP-size crop, and the config's own test
  mode on an image of ``--image-size``.
* ``compare``: two models in one process, timed in alternation on the same
  input; median seconds per image of each, the ratio of the medians and the
  spread of the per-pair ratios (the figures to quote on a shared machine).
* ``model``: chunked vs unchunked inference, time and peak memory (CUDA: max
  allocated; CPU: growth of the peak RSS over the built model, in a fresh
  process per setting).
* ``protocol``: time and peak memory of one image in the config's test mode
  (e.g. CAT-Seg's 5 views) per vocabulary size, each in a fresh process,
  after the vocabulary's text embeddings are cached (CUDA: max allocated;
  CPU: the peak RSS over the RSS before the image, and the process's peak).
* ``train-memory``: peak memory of one training step (forward + backward of
  the loss) per vocabulary size, each in a fresh process, and the fitted
  memory per class.
* ``sam-block``: one SAM block at the config's sizes, the fast forward vs
  SAM's own ``TwoWayAttentionBlock`` (alternating), with the largest
  difference.
* ``ppg``: the PPG op, as ``benchmark_ppg.py``.
* ``gpu-report``: the whole-model figures of ``tools/gpu_check.sh`` as
  markdown tables for docs/efficiency.md; ``--small`` runs the same code on
  the tiny synthetic config (a CPU check of the tool); ``--budget-s`` skips
  what would not fit the time left.

The measurements live in ``escnet_mmseg.analysis``.
"""
from escnet_mmseg.analysis.cli import main

if __name__ == '__main__':
    main(description=__doc__)
