"""ESC-Net segmentor: an open-vocabulary ``EncoderDecoder``."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptSampleList, SampleList
from torch import Tensor

from ..datasets.prompts import resolve_vocabulary
from ..utils.vocabulary import validate_vocabulary
from .esc_neck import cosine_correlation
from .slide_global import check_layout, fuse_views, make_views, num_windows
from .streaming import RunningArgmax, restore_to_image, slide_windows
from .utils import class_chunks

# Logit of the classes left out by ``test_cfg.max_classes`` (CAT-Seg's value).
DROPPED_CLASS_LOGIT = -100.
# Classes per step after the network when ``test_cfg.class_chunk_size`` is
# None: (32, H, W) maps at a time instead of (T, H, W).
STREAM_CHUNK = 32


@MODELS.register_module()
class ESCNet(EncoderDecoder):
    """ESC-Net: CLIP + N ESC blocks + U-Net decoder over any vocabulary.

    No layer depends on the number of classes. The vocabulary is, in order of
    priority: the names given to :meth:`set_vocabulary` (the
    ``VocabularyHook`` sets the train/val/test dataset's ``classes``), else
    ``dataset_meta['classes']`` (what MMSeg's ``init_model`` and inferencer
    restore from a checkpoint), else the config's ``vocabulary`` (what
    MMSeg's ``benchmark.py`` and ``init_model`` without a checkpoint use).

    Call graph (as MMSeg's ``EncoderDecoder``)::

        loss    -> extract_feat -> decode_head.loss (per-class BCE or CE)
        predict -> the views of the test mode: the image (whole), MMSeg's
                   windows (slide) or CAT-Seg's windows + global view
                   (slide_global)
                -> view_logits (per view when max_classes applies)
                -> extract_feat:
                     backbone (CLIP image tower: dense F_v, skips G_1, G_2)
                     text_encoder (vocabulary -> F_l, cached)
                     neck (C0 = cos(F_v, F_l); N ESC blocks:
                           PPG -> SAM block -> VLF, chunked over classes)
                -> decode_head (U-Net with G_2, G_1 -> one logit map per
                   class, at 4h x 4w)
                -> per chunk of classes: upsampling, fusion of the views,
                   padding / flip / resize to the image, running argmax
                   (:mod:`.streaming`)
        inference -> every class at once: MMSeg's whole / slide logits or
                     slide_global_inference's fused probabilities

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
              of this size (bounded memory, same result); the steps after
              the network (upsampling, fusion, resizing to the image, argmax)
              always stream the classes, ``STREAM_CHUNK`` at a time when
              None;
            - ``view_batch_size`` (int or None): views (windows, images) that
              go through the network at once; None: all of a batch;
            - ``return_logits`` (bool): also store ``seg_logits`` (T, H, W)
              in the predictions (the label map never needs them). Defaults
              to True, as MMSeg; the evaluation configs set False;
            - ``max_classes`` (int or None): when the vocabulary is larger,
              every view keeps only the ``max_classes`` classes with the
              highest cosine correlation anywhere in the view and the others
              get a logit of -100 (CAT-Seg's ``pad_len``); None runs every
              class.

            Defaults to dict(mode='whole').
        vocabulary (str or Sequence[str], optional): The default vocabulary:
            class names, or the name of a packaged prompt list (``'coco'``,
            ``'ade150'``, ... see :mod:`escnet_mmseg.datasets.prompts`).
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
        self.default_vocabulary = (None if vocabulary is None else
                                   resolve_vocabulary(vocabulary))

    def _init_decode_head(self, decode_head: ConfigType) -> None:
        # out_channels/num_classes follow the vocabulary (properties below).
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners

    # ------------------------------------------------------------------
    # vocabulary
    def set_vocabulary(self, names: Union[str, Sequence[str], None]) -> None:
        """Use ``names`` (class names or a packaged list's name) as the class
        names (None: fall back to ``dataset_meta['classes']``, then the
        config's ``vocabulary``)."""
        self._vocabulary = None if names is None else resolve_vocabulary(names)

    @property
    def vocabulary(self) -> tuple:
        """The current class names (T of them)."""
        if self._vocabulary is not None:
            return self._vocabulary
        meta = getattr(self, 'dataset_meta', None) or {}
        if meta.get('classes'):
            return validate_vocabulary(meta['classes'])
        if self.default_vocabulary is not None:
            return self.default_vocabulary
        raise RuntimeError(
            'ESCNet has no vocabulary: call model.set_vocabulary([...]), give '
            'classes to the inferencer, name one in the config '
            "(model.vocabulary=['sky', ...] or 'ade150', ...), or use a "
            'dataset whose metainfo has "classes" (with the VocabularyHook '
            'in custom_hooks)')

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
        # Nothing here reads the pooled CLS embedding (in dense mode it
        # would cost the last block's ordinary forward).
        return (self.backbone(inputs, with_pooled=False),
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

    def _view_batch_size(self) -> Optional[int]:
        value = self.test_cfg.get('view_batch_size')
        if value is not None and int(value) < 1:
            raise ValueError(f'test_cfg.view_batch_size must be >= 1 or '
                             f'None, got {value}')
        return None if value is None else int(value)

    def view_logits(self, inputs: Tensor) -> Tensor:
        """Class logits of a batch of views (images or windows).

        Args:
            inputs (Tensor): Normalised views (N, 3, H, W), resized to the CLIP
                input size when they differ; they go through the network
                ``test_cfg.view_batch_size`` at a time (None: all N as one
                batch). Fewer views at once keep less of the (views, T, C, h,
                w) correlation the ESC blocks pass on.

        Returns:
            Tensor: Logits (N, T, 4h, 4w) at the decoder resolution. With
                ``test_cfg.max_classes = K`` and T > K, each view is run on its
                own K classes (see :meth:`top_classes`) and the other classes
                get ``DROPPED_CLASS_LOGIT``.
        """
        size = self._view_batch_size()
        if size is None or size >= inputs.shape[0]:
            return self._view_logits(inputs)
        out = None
        for start in range(0, inputs.shape[0], size):
            logits = self._view_logits(inputs[start:start + size])
            if out is None:
                out = logits.new_empty((inputs.shape[0], *logits.shape[1:]))
            out[start:start + size] = logits
        return out

    def _view_logits(self, inputs: Tensor) -> Tensor:
        """:meth:`view_logits` of views that go through as one batch."""
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
        """Class probabilities from logits (B, t, ...) of the vocabulary
        (or a chunk of it): :meth:`ESCNetHead.probabilities`."""
        return self.decode_head.probabilities(logits, self.num_classes)

    def _slide_global_layout(self):
        cfg = self.test_cfg
        out_size, crop_size, stride = check_layout(
            cfg.get('out_size', (640, 640)), cfg.get('crop_size', (384, 384)),
            cfg.get('stride', (256, 256)))
        return out_size, crop_size, stride, bool(cfg.get('global_view', True))

    def _slide_global_views(self, inputs: Tensor,
                            batch_img_metas: List[dict]) -> Tensor:
        """Every image's views (:func:`make_views`), padding removed first,
        as one batch (B * V, 3, *crop_size)."""
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
        return torch.cat(views)

    def _fuse_slide_global(self, logits: Tensor, num_images: int) -> Tensor:
        """Fused probabilities (B, t, *out_size) of the views' logits
        (B * V, t, 4h, 4w): upsampled to the window, :meth:`probabilities`,
        folded and averaged with the global view (:func:`fuse_views`)."""
        out_size, crop_size, stride, global_view = self._slide_global_layout()
        logits = F.interpolate(
            logits, size=crop_size, mode='bilinear', align_corners=False)
        probs = self.probabilities(logits)
        return torch.stack([
            fuse_views(p, out_size, crop_size, stride, global_view)
            for p in probs.split(logits.shape[0] // num_images)
        ])

    def slide_global_inference(self, inputs: Tensor,
                               batch_img_metas: List[dict]) -> Tensor:
        """CAT-Seg's evaluation: windows plus a global view, fused as
        probabilities.

        Each image (padding removed) is resized to ``out_size`` and cut into
        ``crop_size`` windows at ``stride``; the whole image resized to
        ``crop_size`` is one more view (``global_view``). All views of the
        batch run through the network as one batch (``view_batch_size``
        splits it). Each view's logits are upsampled to ``crop_size``, turned
        into probabilities (:meth:`probabilities`), the windows are folded
        back (overlaps averaged) and averaged with the global view upsampled
        to ``out_size``. :meth:`predict` streams the same steps over chunks
        of classes; this method returns every class at once.

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W).
            batch_img_metas (list[dict]): Meta info per image (the padding,
                ``img_padding_size`` or ``padding_size``, is removed first).

        Returns:
            Tensor: Class probabilities (B, T, *out_size).
        """
        views = self._slide_global_views(inputs, batch_img_metas)
        return self._fuse_slide_global(
            self.view_logits(views), inputs.shape[0])

    def inference(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """MMSeg's ``whole``/``slide`` logits, or for ``slide_global`` the
        fused class probabilities at ``out_size``."""
        if self.test_cfg.get('mode') == 'slide_global':
            return self.slide_global_inference(inputs, batch_img_metas)
        return super().inference(inputs, batch_img_metas)

    def num_views(self, image_size: Sequence[int]) -> int:
        """How many views the test mode runs the network on for one image.

        A view's cost does not depend on its pixels, so a cost counter
        multiplies one view's by this: 1 for ``whole``, MMSeg's windows for
        ``slide``, the windows plus the global view for ``slide_global``.

        Args:
            image_size (Sequence[int]): The network's input (H, W), padding
                included (``slide`` cuts it; ``slide_global`` resizes it).

        Returns:
            int: Views per image.
        """
        mode = self.test_cfg.get('mode', 'whole')
        if mode == 'slide_global':
            out_size, crop_size, stride, global_view = \
                self._slide_global_layout()
            return num_windows(out_size, crop_size, stride) + int(global_view)
        if mode == 'slide':
            return len(
                slide_windows(*image_size, self.test_cfg.crop_size,
                              self.test_cfg.stride))
        return 1

    # ------------------------------------------------------------------
    # prediction, streamed over chunks of classes
    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """MMSeg's ``predict`` (and CAT-Seg's fusion in ``slide_global``),
        with the classes streamed in chunks.

        The network runs once; the steps after it (upsampling, fusion of
        the views, padding, flip, resizing to the original image) run on
        ``class_chunk_size`` classes at a time and a running argmax gives the
        labels (:mod:`.streaming`): the label map is the argmax of what MMSeg
        (``whole``, ``slide``) or CAT-Seg (``slide_global``) compute, and no
        (T, H, W) tensor exists unless ``test_cfg.return_logits`` (default
        True) asks for ``seg_logits``. A softmax (CE) model in
        ``slide_global`` takes all classes at once: its probabilities need
        every class.

        Returns:
            SampleList: Per image ``pred_sem_seg`` (1, H, W) and, when asked,
                ``seg_logits`` (T, H, W): MMSeg's logits in ``whole`` /
                ``slide`` (a one-class vocabulary: its sigmoid, as MMSeg), in
                ``slide_global`` logits whose sigmoid (BCE models) or softmax
                (CE models) are the fused probabilities.
        """
        restore = data_samples is not None
        if restore:
            metas = [s.metainfo for s in data_samples]
        else:  # as EncoderDecoder.predict
            shape = inputs.shape[2:]
            metas = [
                dict(
                    ori_shape=shape,
                    img_shape=shape,
                    pad_shape=shape,
                    padding_size=[0] * 4) for _ in range(inputs.shape[0])
            ]
            data_samples = [SegDataSample() for _ in metas]
        mode = self.test_cfg.get('mode', 'whole')
        if mode == 'slide_global':
            scores_of = self._slide_global_scores(inputs, metas)
        elif mode in ('whole', 'slide'):
            scores_of = self._mmseg_scores(inputs, metas, restore)
        else:
            raise ValueError(f"test_cfg.mode must be 'whole', 'slide' or "
                             f"'slide_global', got '{mode}'")
        return self._stream_labels(scores_of, data_samples,
                                   mode == 'slide_global')

    def _stream_labels(self, scores_of, data_samples: SampleList,
                       probabilities: bool) -> SampleList:
        """Label maps (and ``seg_logits`` when asked) from ``scores_of(c)``,
        the per-image (t, H, W) scores of the classes ``c``."""
        num = self.num_classes
        keep = bool(self.test_cfg.get('return_logits', True))
        chunk = self.test_cfg.get('class_chunk_size') or STREAM_CHUNK
        if probabilities and not self.decode_head.sigmoid_scores(num):
            chunk = None  # a softmax needs every class
        if num == 1:
            return self._one_class(
                scores_of(slice(None)), data_samples, probabilities, keep)
        argmaxes = [RunningArgmax(num, keep) for _ in data_samples]
        for classes in class_chunks(num, chunk):
            for acc, scores in zip(argmaxes, scores_of(classes)):
                acc.update(
                    scores,
                    self._as_logits(scores)
                    if keep and probabilities else None)
        for acc, sample in zip(argmaxes, data_samples):
            sample.set_data({'pred_sem_seg': PixelData(data=acc.result())})
            if keep:
                sample.set_data({'seg_logits': PixelData(data=acc.scores)})
        return data_samples

    def _one_class(self, scores: List[Tensor], data_samples: SampleList,
                   probabilities: bool, keep: bool) -> SampleList:
        """A one-name vocabulary is thresholded, as MMSeg does; ``keep``
        stores ``seg_logits`` too."""
        head = self.decode_head
        for s, sample in zip(scores, data_samples):
            # MMSeg thresholds (and stores) the sigmoid of its logits.
            probs = s if probabilities else head.probabilities(s, dim=0)
            pred = head.predict_labels(probs)
            sample.set_data({'pred_sem_seg': PixelData(data=pred)})
            if keep:
                logits = self._as_logits(s) if probabilities else probs
                sample.set_data({'seg_logits': PixelData(data=logits)})
        return data_samples

    def _as_logits(self, probs: Tensor) -> Tensor:
        """Logits (t, H, W) whose :meth:`probabilities` are ``probs``."""
        return self.decode_head.probability_logits(
            probs, self.num_classes, dim=0)

    def _mmseg_scores(self, inputs: Tensor, metas: List[dict], restore: bool):
        """``scores_of(c)`` for MMSeg's ``whole`` and ``slide`` modes: the
        network runs here (per window in ``slide``), at the decoder's
        resolution; each call upsamples, averages the windows and restores
        the images (:func:`restore_to_image`) for the classes ``c`` only."""
        size = inputs.shape[2:]
        if self.test_cfg.get('mode', 'whole') == 'whole':
            windows = [((0, size[0], 0, size[1]), self.view_logits(inputs))]
            count = None
        else:
            windows = [
                ((y1, y2, x1, x2), self.view_logits(inputs[:, :, y1:y2,
                                                           x1:x2]))
                for y1, y2, x1, x2 in slide_windows(
                    *size, self.test_cfg.crop_size, self.test_cfg.stride)
            ]
            count = inputs.new_zeros((1, 1, *size))
            for (y1, y2, x1, x2), _ in windows:
                count[:, :, y1:y2, x1:x2] += 1

        def scores_of(classes: slice) -> List[Tensor]:
            if count is None:  # whole: EncoderDecoder.encode_decode
                maps = self.decode_head.predict_by_feat(
                    windows[0][1][:, classes], metas)
            else:  # slide: EncoderDecoder.slide_inference
                maps = 0
                for (y1, y2, x1, x2), logits in windows:
                    crop = self.decode_head.predict_by_feat(
                        logits[:, classes],
                        [dict(img_shape=torch.Size((y2 - y1, x2 - x1)))])
                    maps = maps + F.pad(crop,
                                        (x1, size[1] - x2, y1, size[0] - y2))
                maps = maps / count
            if not restore:
                return list(maps)
            return [
                restore_to_image(m, meta, self.align_corners)
                for m, meta in zip(maps, metas)
            ]

        return scores_of

    def _slide_global_scores(self, inputs: Tensor, metas: List[dict]):
        """``scores_of(c)`` for ``slide_global``: the network runs here on
        all views; each call fuses the probabilities of the classes ``c``
        and resizes them straight from ``out_size`` to each original image
        size (as CAT-Seg does; the padding was removed before the views)."""
        logits = self.view_logits(self._slide_global_views(inputs, metas))
        unpadded = [dict(meta, padding_size=[0] * 4) for meta in metas]
        for meta in unpadded:
            meta.pop('img_padding_size', None)

        def scores_of(classes: slice) -> List[Tensor]:
            fused = self._fuse_slide_global(logits[:, classes], len(metas))
            return [
                restore_to_image(p, meta, align_corners=False)
                for p, meta in zip(fused, unpadded)
            ]

        return scores_of
