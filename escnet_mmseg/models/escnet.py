"""ESC-Net segmentor: an open-vocabulary ``EncoderDecoder``."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from .text_encoder import validate_vocabulary


@MODELS.register_module()
class ESCNet(EncoderDecoder):
    """ESC-Net: CLIP + N ESC blocks + U-Net decoder over any vocabulary.

    No layer depends on the number of classes. The vocabulary is, in order of
    priority: the names given to :meth:`set_vocabulary` (the
    ``VocabularyHook`` sets the train/val/test dataset's ``classes``), else
    ``dataset_meta['classes']`` (what MMSeg's ``init_model`` and inferencer
    restore from a checkpoint).

    Args:
        backbone: :class:`CLIPBackbone` config.
        text_encoder: :class:`ESCTextEncoder` config.
        neck: :class:`ESCNeck` config.
        decode_head: :class:`ESCNetHead` config.
        test_cfg: ``mode`` ('whole' | 'slide'), ``crop_size``/``stride`` for
            slide, ``class_chunk_size`` (int or None) to bound memory for
            large vocabularies.
        vocabulary: Optional initial class names.
        pretrained: Backbone weights, as :class:`EncoderDecoder` takes them
            (set as ``backbone.pretrained``); MMSeg's ``init_model`` passes
            None. Usually given as ``backbone.pretrained`` instead.
    """

    def __init__(self,
                 backbone: ConfigType,
                 text_encoder: ConfigType,
                 neck: ConfigType,
                 decode_head: ConfigType,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = dict(mode='whole'),
                 data_preprocessor: OptConfigType = None,
                 vocabulary: Optional[Sequence[str]] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            decode_head=decode_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        # EncoderDecoder reads test_cfg by attribute (test_cfg.mode).
        self.test_cfg = ConfigDict(test_cfg or dict(mode='whole'))
        self.text_encoder = MODELS.build(text_encoder)
        self._vocabulary = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    def _init_decode_head(self, decode_head: ConfigType) -> None:
        # out_channels/num_classes follow the vocabulary (properties below).
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners

    # ------------------------------------------------------------------
    # vocabulary
    def set_vocabulary(self, names: Optional[Sequence[str]]) -> None:
        """Use ``names`` as the class names (None: fall back to
        ``dataset_meta['classes']``)."""
        self._vocabulary = None if names is None else validate_vocabulary(
            names)

    @property
    def vocabulary(self) -> tuple:
        """The current class names (T of them)."""
        if self._vocabulary is not None:
            return self._vocabulary
        meta = getattr(self, 'dataset_meta', None) or {}
        if meta.get('classes'):
            return validate_vocabulary(meta['classes'])
        raise RuntimeError(
            'ESCNet has no vocabulary: call model.set_vocabulary([...]), give '
            'classes to the inferencer, or use a dataset whose metainfo has '
            '"classes" (with the VocabularyHook in custom_hooks)')

    @property
    def num_classes(self) -> int:
        return len(self.vocabulary)

    @property
    def out_channels(self) -> int:
        """Logit maps per image: one per class name (used by slide mode)."""
        return len(self.vocabulary)

    # ------------------------------------------------------------------
    def _class_chunk_size(self) -> Optional[int]:
        # Chunking is an inference option (validated by class_chunks).
        if self.training or self.test_cfg is None:
            return None
        return self.test_cfg.get('class_chunk_size')

    def extract_feat(self, inputs: Tensor) -> Dict[str, object]:
        """Correlation features of every class.

        Args:
            inputs: Normalised images (B, 3, H, W); resized to the CLIP input
                size when they differ (whole-image inference).

        Returns:
            dict for :class:`ESCNetHead`: ``corr`` Z (B, T, C, h, w),
            ``skips`` (G_1, G_2) each (B, W, h, w), ``class_chunk_size``.
        """
        size = self.backbone.image_size
        if tuple(inputs.shape[-2:]) != size:
            inputs = F.interpolate(
                inputs, size=size, mode='bilinear', align_corners=False)
        feats = self.backbone(inputs)
        text = self.text_encoder(self.vocabulary, self.backbone)
        chunk = self._class_chunk_size()
        corr = self.neck(feats['dense'], text, class_chunk_size=chunk)
        return dict(corr=corr, skips=feats['skips'], class_chunk_size=chunk)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses; checks the labels fit the vocabulary first."""
        self._check_labels(data_samples)
        return super().loss(inputs, data_samples)

    def _check_labels(self, data_samples: SampleList) -> None:
        ignore = self.decode_head.ignore_index
        num = self.num_classes
        for sample in data_samples:
            label = sample.gt_sem_seg.data
            bad = label[(label != ignore) & ((label < 0) | (label >= num))]
            if bad.numel():
                raise ValueError(
                    f'label {int(bad[0])} in {sample.metainfo.get("seg_map_path", "a sample")} '
                    f'is outside the vocabulary of {num} classes and is not the '
                    f'ignore index {ignore}')
