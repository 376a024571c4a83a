"""Test-time augmentation that averages the probabilities the model was
trained for."""
from typing import List, Union

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import nn


@MODELS.register_module()
class ESCTTAModel(SegTTAModel):
    """:class:`SegTTAModel` for ESC-Net.

    MMSeg averages the softmax of the augmented views. A model trained with
    per-class sigmoid BCE (``decode_head.use_sigmoid``) scores every class
    independently, so its views are averaged as per-class sigmoids; softmax
    CE models keep MMSeg's softmax average. The prediction is the argmax of
    the average (a one-name vocabulary is thresholded as MMSeg does): the
    decode head's rule (:meth:`ESCNetHead.probabilities`,
    :meth:`ESCNetHead.predict_labels`), as in :class:`ESCNet`'s test modes.
    """

    def __init__(self,
                 module: Union[dict, nn.Module],
                 data_preprocessor: Union[dict, nn.Module, None] = None):
        super().__init__(module, data_preprocessor)
        # merge_preds averages the views' seg_logits: the model must keep
        # them (test_cfg.return_logits, see ESCNet.predict).
        self.module.test_cfg['return_logits'] = True

    def test_step(self, data):
        """MMSeg's TTA, refusing scale factors the test mode would undo.

        ``whole`` and ``slide_global`` resize every input to a fixed size
        (the CLIP input, ``out_size``) before the network: the scales of a
        multi-scale ``tta_pipeline`` would reach it at the same size and
        only cost passes. Flips are kept; ``mode='slide'`` takes scales.
        """
        mode = self.module.test_cfg.get('mode', 'whole')
        if mode != 'slide' and isinstance(data, dict):
            scales = {
                tuple(
                    round(float(f), 4)
                    for f in aug[0].metainfo.get('scale_factor', (1., 1.)))
                for aug in data.get('data_samples') or [] if aug
            }
            if len(scales) > 1:
                raise ValueError(
                    f'--tta: the tta_pipeline resizes by {len(scales)} scale '
                    f'factors {sorted(scales)}, but test_cfg.mode={mode!r} '
                    f'resizes every input to one size before the network, '
                    f'so they would all give the same views: use flips only '
                    f'(img_ratios = [1.0], as the dataset configs) or '
                    f"model.test_cfg.mode='slide' for multi-scale")
        return super().test_step(data)

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Average the views of every image and predict its labels.

        Args:
            data_samples_list (list[SampleList]): For every image, its
                augmented views, each with ``seg_logits`` (T, H, W).

        Returns:
            SampleList: One data sample per image with ``pred_sem_seg`` (1, H,
                W).
        """
        head = self.module.decode_head
        predictions = []
        for views in data_samples_list:
            probs = torch.stack([
                head.probabilities(view.seg_logits.data, dim=0)
                for view in views
            ]).mean(dim=0)
            pred = head.predict_labels(probs)
            merged = views[-1]
            merged.set_data({'pred_sem_seg': PixelData(data=pred)})
            if hasattr(views[0], 'gt_sem_seg'):
                merged.set_data({'gt_sem_seg': views[0].gt_sem_seg})
            merged.set_metainfo({'img_path': views[0].img_path})
            predictions.append(merged)
        return predictions
