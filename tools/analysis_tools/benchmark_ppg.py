r"""Benchmark of the Pseudo Prompt Generator op (``escnet::pseudo_prompts``).

Times the batched PyTorch reference (the CPU kernel; also on CUDA), the
fused Triton kernel (CUDA only, checked equal to the reference first) and a
naive per-map loop, for M = 171 maps (one COCO-Stuff image) and M = 847*4
(four ADE-847 images), with the speed-up over the naive loop measured in the
same run. Needs only torch (triton for the CUDA kernel).

Example::

    python tools/analysis_tools/benchmark_ppg.py --device cpu --repeats 5 \
        --json ppg.json
"""
import argparse

from escnet_mmseg.analysis.ppg_speed import add_ppg_arguments, run_ppg_speed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_ppg_arguments(parser)
    run_ppg_speed(parser.parse_args())


if __name__ == '__main__':
    main()
