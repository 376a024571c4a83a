"""ESC-Net segmentor: an open-vocabulary ``EncoderDecoder``."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptSampleList, SampleList
from torch import Tensor

from ..utils.vocabulary import validate_vocabulary
from .esc_neck import cosine_correlation
from .slide_global import check_layout, fuse_views, make_views

# Logit of the classes left out by ``test_cfg.max_classes`` (CAT-Seg's value).
DROPPED_CLASS_LOGIT = -100.


@MODELS.register_module()
class ESCNet(EncoderDecoder):
    """ESC-Net: CLIP + N ESC blocks + U-Net decoder over any vocabulary.

    No layer depends on the number of classes. The vocabulary is, in order of
    priority: the names given to :meth:`set_vocabulary` (the
    ``VocabularyHook`` sets the train/val/test dataset's ``classes``), else
    ``dataset_meta['classes']`` (what MMSeg's ``init_model`` and inferencer
    restore from a checkpoint).

    Call graph (as MMSeg's ``EncoderDecoder``)::

        loss    -> extract_feat -> decode_head.loss (per-class BCE or CE)
        predict -> inference -> whole / slide (MMSeg's)
                             |  slide_global_inference (CAT-Seg's views)
                -> encode_decode (view_logits when max_classes applies)
                -> extract_feat:
                     backbone (CLIP image tower: dense F_v, skips G_1, G_2)
                     text_encoder (vocabulary -> F_l, cached)
                     neck (C0 = cos(F_v, F_l); N ESC blocks:
                           PPG -> SAM block -> VLF, chunked over classes)
                -> decode_head (U-Net with G_2, G_1 -> one logit map per
                   class) -> postprocess_result (resize to the image)

    Args:
        backbone (ConfigType): :class:`CLIPBackbone` config.
        text_encoder (ConfigType): :class:`ESCTextEncoder` config.
        neck (ConfigType): :class:`ESCNeck` config.
        decode_head (ConfigType): :class:`ESCNetHead` config.
        test_cfg (OptConfigType): Inference options:

            - ``mode``: ``'whole'``, ``'slide'`` (MMSeg's) or
              ``'slide_global'`` (CAT-Seg's protocol, see
              :meth:`slide_global_inference`);
            - ``crop_size``, ``stride``: windows of ``slide`` and
              ``slide_global``; ``out_size`` and ``global_view`` for
              ``slide_global``;
            - ``class_chunk_size`` (int or None): run the classes in chunks
              of this size (bounded memory, same result);
            - ``max_classes`` (int or None): when the vocabulary is larger,
              every view keeps only the ``max_classes`` classes with the
              highest cosine correlation anywhere in the view and the others
              get a logit of -100 (CAT-Seg's ``pad_len``); None runs every
              class.

            Defaults to dict(mode='whole').
        vocabulary (Sequence[str], optional): Optional initial class names.
            Defaults to None.
        pretrained (str, optional): Backbone weights, as
            :class:`EncoderDecoder` takes them (set as
            ``backbone.pretrained``); MMSeg's ``init_model`` passes None.
            Usually given as ``backbone.pretrained`` instead. Defaults to None.
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

    def _clip_features(self, inputs: Tensor) -> Tuple[dict, Tensor]:
        """CLIP image features of (B, 3, H, W) inputs, resized to the CLIP
        input size when they differ, and the vocabulary's (T, E) text
        embeddings."""
        size = self.backbone.image_size
        if tuple(inputs.shape[-2:]) != size:
            inputs = F.interpolate(
                inputs, size=size, mode='bilinear', align_corners=False)
        return (self.backbone(inputs),
                self.text_encoder(self.vocabulary, self.backbone))

    def extract_feat(self, inputs: Tensor) -> Dict[str, object]:
        """Correlation features of every class.

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W); resized to the
                CLIP input size when they differ (whole-image inference).

        Returns:
            dict[str, object]: The inputs of :class:`ESCNetHead`: ``corr`` Z
                (B, T, C, h, w), ``skips`` (G_1, G_2) each (B, W, h, w),
                ``class_chunk_size``.
        """
        feats, text = self._clip_features(inputs)
        chunk = self._class_chunk_size()
        corr = self.neck(feats['dense'], text, class_chunk_size=chunk)
        return dict(corr=corr, skips=feats['skips'], class_chunk_size=chunk)

    # ------------------------------------------------------------------
    # inference
    def _max_classes(self) -> Optional[int]:
        if self.training or self.test_cfg is None:
            return None
        value = self.test_cfg.get('max_classes')
        if value is not None and int(value) < 1:
            raise ValueError(f'test_cfg.max_classes must be >= 1 or None, '
                             f'got {value}')
        return None if value is None else int(value)

    def view_logits(self, inputs: Tensor) -> Tensor:
        """Class logits of a batch of views (images or windows).

        Args:
            inputs (Tensor): Normalised views (N, 3, H, W), resized to the CLIP
                input size when they differ; all N go through the network as
                one batch.

        Returns:
            Tensor: Logits (N, T, 4h, 4w) at the decoder resolution. With
                ``test_cfg.max_classes = K`` and T > K, each view is run on its
                own K classes (see :meth:`top_classes`) and the other classes
                get ``DROPPED_CLASS_LOGIT``.
        """
        max_classes = self._max_classes()
        if max_classes is None or self.num_classes <= max_classes:
            return self.decode_head(self.extract_feat(inputs))
        feats, text = self._clip_features(inputs)
        keep = self.top_classes(feats['dense'], text, max_classes)
        chunk = self._class_chunk_size()
        out = None
        for i, idx in enumerate(keep):
            corr = self.neck(
                feats['dense'][i:i + 1], text[idx], class_chunk_size=chunk)
            logits = self.decode_head(
                dict(
                    corr=corr,
                    skips=[s[i:i + 1] for s in feats['skips']],
                    class_chunk_size=chunk))[0]
            if out is None:
                out = logits.new_full(
                    (len(keep), self.num_classes, *logits.shape[-2:]),
                    DROPPED_CLASS_LOGIT)
            out[i, idx] = logits
        return out

    @staticmethod
    def top_classes(visual: Tensor, text: Tensor, k: int) -> Tensor:
        """Per view, the k classes whose cosine correlation with the view
        is highest at some position (CAT-Seg's aggregator with
        ``pad_len=k``).

        Args:
            visual (Tensor): Dense CLIP features (N, E, h, w).
            text (Tensor): Text embeddings (T, E).

        Returns:
            Tensor: Class indices (N, k), ascending in each row.
        """
        score = cosine_correlation(visual, text).flatten(2).amax(dim=-1)
        return score.topk(k, dim=1).indices.sort(dim=1).values

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Logits resized to the input (``whole`` / ``slide`` windows), by
        the decode head's ``predict_by_feat`` as in ``EncoderDecoder``."""
        return self.decode_head.predict_by_feat(
            self.view_logits(inputs), batch_img_metas)

    def probabilities(self, logits: Tensor) -> Tensor:
        """Class probabilities from logits (B, T, ...): per-class sigmoid
        for a model trained with sigmoid losses, else softmax over T."""
        if self.decode_head.use_sigmoid:
            return logits.sigmoid()
        return logits.softmax(dim=1)

    def _slide_global_layout(self):
        cfg = self.test_cfg
        out_size, crop_size, stride = check_layout(
            cfg.get('out_size', (640, 640)), cfg.get('crop_size', (384, 384)),
            cfg.get('stride', (256, 256)))
        return out_size, crop_size, stride, bool(cfg.get('global_view', True))

    def slide_global_inference(self, inputs: Tensor,
                               batch_img_metas: List[dict]) -> Tensor:
        """CAT-Seg's evaluation: windows plus a global view, fused as
        probabilities.

        Each image (padding removed) is resized to ``out_size`` and cut into
        ``crop_size`` windows at ``stride``; the whole image resized to
        ``crop_size`` is one more view (``global_view``). All views of the
        batch run through the network as one batch. Each view's logits are
        upsampled to ``crop_size``, turned into probabilities
        (:meth:`probabilities`), the windows are folded back (overlaps
        averaged) and averaged with the global view upsampled to
        ``out_size``.

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W).
            batch_img_metas (list[dict]): Meta info per image (the padding,
                ``img_padding_size`` or ``padding_size``, is removed first).

        Returns:
            Tensor: Class probabilities (B, T, *out_size).
        """
        out_size, crop_size, stride, global_view = self._slide_global_layout()
        H, W = inputs.shape[-2:]
        views = []
        for image, meta in zip(inputs, batch_img_metas):
            # The padding MMSeg's postprocess_result would crop.
            left, right, top, bottom = meta.get(
                'img_padding_size', meta.get('padding_size', [0] * 4))
            image = image[:, top:H - bottom, left:W - right]
            views.append(
                make_views(image, out_size, crop_size, stride, global_view))
        per_image = views[0].shape[0]
        logits = self.view_logits(torch.cat(views))
        logits = F.interpolate(
            logits, size=crop_size, mode='bilinear', align_corners=False)
        probs = self.probabilities(logits)
        return torch.stack([
            fuse_views(p, out_size, crop_size, stride, global_view)
            for p in probs.split(per_image)
        ])

    def inference(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """MMSeg's ``whole``/``slide`` logits, or for ``slide_global`` the
        fused class probabilities at ``out_size``."""
        if self.test_cfg.get('mode') == 'slide_global':
            return self.slide_global_inference(inputs, batch_img_metas)
        return super().inference(inputs, batch_img_metas)

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """MMSeg's prediction; ``slide_global`` resizes the fused
        probabilities straight from ``out_size`` to each original image
        size (as CAT-Seg does) and stores their logits in ``seg_logits``."""
        if self.test_cfg.get('mode') != 'slide_global':
            return super().predict(inputs, data_samples)
        if data_samples is None:
            metas = [
                dict(ori_shape=inputs.shape[2:], padding_size=[0] * 4)
                for _ in range(inputs.shape[0])
            ]
        else:
            metas = [s.metainfo for s in data_samples]
        probs = self.slide_global_inference(inputs, metas)
        return self._pack_probabilities(probs, metas, data_samples)

    def _pack_probabilities(self, probs: Tensor, metas: List[dict],
                            data_samples: OptSampleList) -> SampleList:
        """``postprocess_result`` for probabilities at ``out_size``.

        Each map is flipped back if the image was flipped, resized to
        ``ori_shape`` (bilinear) and argmaxed. ``seg_logits`` holds logits
        whose softmax (CE models) or sigmoid (BCE models) gives these
        probabilities back, so ``SegTTAModel`` treats every mode alike.
        """
        if data_samples is None:
            data_samples = [SegDataSample() for _ in metas]
        sigmoid = self.decode_head.use_sigmoid
        for p, meta, sample in zip(probs, metas, data_samples):
            p = p[None]
            if meta.get('flip', False):
                dims = (3, ) if meta.get('flip_direction') == 'horizontal' \
                    else (2, )
                p = p.flip(dims=dims)
            p = resize(
                p,
                size=meta['ori_shape'],
                mode='bilinear',
                align_corners=False)[0]
            if p.shape[0] > 1:
                pred = p.argmax(dim=0, keepdim=True)
            else:
                pred = (p > self.decode_head.threshold).to(p)
            # Clamped so that no logit is infinite.
            logits = torch.logit(
                p, eps=1e-6) if sigmoid else p.clamp_min(
                    torch.finfo(p.dtype).tiny).log()
            sample.set_data({
                'seg_logits': PixelData(data=logits),
                'pred_sem_seg': PixelData(data=pred)
            })
        return data_samples
