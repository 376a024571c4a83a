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
    the average (a one-name vocabulary is thresholded as MMSeg does).
    """

    def __init__(self,
                 module: Union[dict, nn.Module],
                 data_preprocessor: Union[dict, nn.Module, None] = None):
        super().__init__(module, data_preprocessor)
        # merge_preds averages the views' seg_logits: the model must keep
        # them (test_cfg.return_logits, see ESCNet.predict).
        self.module.test_cfg['return_logits'] = True

    def _probabilities(self, seg_logits: torch.Tensor) -> torch.Tensor:
        """(T, H, W) logits -> (T, H, W) probabilities."""
        if self.module.decode_head.use_sigmoid or seg_logits.shape[0] == 1:
            return seg_logits.sigmoid()
        return seg_logits.softmax(dim=0)

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Average the views of every image and predict its labels.

        Args:
            data_samples_list (list[SampleList]): For every image, its
                augmented views, each with ``seg_logits`` (T, H, W).

        Returns:
            SampleList: One data sample per image with ``pred_sem_seg`` (1, H,
                W).
        """
        predictions = []
        for views in data_samples_list:
            probs = torch.stack([
                self._probabilities(view.seg_logits.data) for view in views
            ]).mean(dim=0)
            if probs.shape[0] == 1:
                pred = (probs > self.module.decode_head.threshold).to(probs)
            else:
                pred = probs.argmax(dim=0, keepdim=True)
            merged = views[-1]
            merged.set_data({'pred_sem_seg': PixelData(data=pred)})
            if hasattr(views[0], 'gt_sem_seg'):
                merged.set_data({'gt_sem_seg': views[0].gt_sem_seg})
            merged.set_metainfo({'img_path': views[0].img_path})
            predictions.append(merged)
        return predictions
