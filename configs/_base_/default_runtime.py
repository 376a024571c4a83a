# MMSeg's default runtime, plus the ESC-Net package and its vocabulary hook.
default_scope = 'mmseg'
# Registers the ESC-Net models, datasets and transforms.
custom_imports = dict(imports=['escnet_mmseg'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
# MMSeg's SegLocalVisualizer, also for images that are not C-contiguous
# (MMSeg's misc/browse_dataset.py hands it such views; see
# docs/mmseg_tools.md).
visualizer = dict(
    type='ContiguousSegVisualizer',
    vis_backends=vis_backends,
    name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False

# Before training / validation / testing, copies the class names of each
# dataloader's dataset (``dataset.metainfo['classes']``) into the model as
# its vocabulary: the model has no fixed number of classes.
custom_hooks = [dict(type='VocabularyHook')]

tta_model = dict(type='ESCTTAModel')
