"""PASCAL-Context full label set (459 classes), "PC-459".

Class names and order are those of the dataset's ``labels.txt`` (ids 1..459,
stored here 0-based), as used by the open-vocabulary literature (CAT-Seg's
``datasets/pc459.json``). Multi-word names are written the way the dataset
writes them (``airconditioner``, ``pottedplant``); they are kept verbatim so
that results are comparable with published numbers.

Labels are 16-bit ``.tif`` files with values ``0..458`` and ``65535`` for
unlabelled pixels, written by
``tools/dataset_converters/pascal_context_459.py`` from the official
``trainval/*.mat`` label maps, for the 5,104 validation images of
:func:`pascal_context_val_ids`.
"""
import os.path as osp
import re
from functools import lru_cache
from typing import Tuple

from mmseg.registry import DATASETS

from .base import TiffLabelSegDataset, make_palette
from .prompts import load_prompts

PASCAL_CONTEXT_459_CLASSES = (
    'accordion', 'aeroplane', 'airconditioner', 'antenna', 'artillery',
    'ashtray', 'atrium', 'babycarriage', 'bag', 'ball', 'balloon',
    'bambooweaving', 'barrel', 'baseballbat', 'basket', 'basketballbackboard',
    'bathtub', 'bed', 'bedclothes', 'beer', 'bell', 'bench', 'bicycle',
    'binoculars', 'bird', 'birdcage', 'birdfeeder', 'birdnest', 'blackboard',
    'board', 'boat', 'bone', 'book', 'bottle', 'bottleopener', 'bowl', 'box',
    'bracelet', 'brick', 'bridge', 'broom', 'brush', 'bucket', 'building',
    'bus', 'cabinet', 'cabinetdoor', 'cage', 'cake', 'calculator', 'calendar',
    'camel', 'camera', 'cameralens', 'can', 'candle', 'candleholder', 'cap',
    'car', 'card', 'cart', 'case', 'casetterecorder', 'cashregister', 'cat',
    'cd', 'cdplayer', 'ceiling', 'cellphone', 'cello', 'chain', 'chair',
    'chessboard', 'chicken', 'chopstick', 'clip', 'clippers', 'clock',
    'closet', 'cloth', 'clothestree', 'coffee', 'coffeemachine', 'comb',
    'computer', 'concrete', 'cone', 'container', 'controlbooth', 'controller',
    'cooker', 'copyingmachine', 'coral', 'cork', 'corkscrew', 'counter',
    'court', 'cow', 'crabstick', 'crane', 'crate', 'cross', 'crutch', 'cup',
    'curtain', 'cushion', 'cuttingboard', 'dais', 'disc', 'disccase',
    'dishwasher', 'dock', 'dog', 'dolphin', 'door', 'drainer', 'dray',
    'drinkdispenser', 'drinkingmachine', 'drop', 'drug', 'drum', 'drumkit',
    'duck', 'dumbbell', 'earphone', 'earrings', 'egg', 'electricfan',
    'electriciron', 'electricpot', 'electricsaw', 'electronickeyboard',
    'engine', 'envelope', 'equipment', 'escalator', 'exhibitionbooth',
    'extinguisher', 'eyeglass', 'fan', 'faucet', 'faxmachine', 'fence',
    'ferriswheel', 'fireextinguisher', 'firehydrant', 'fireplace', 'fish',
    'fishtank', 'fishbowl', 'fishingnet', 'fishingpole', 'flag', 'flagstaff',
    'flame', 'flashlight', 'floor', 'flower', 'fly', 'foam', 'food',
    'footbridge', 'forceps', 'fork', 'forklift', 'fountain', 'fox', 'frame',
    'fridge', 'frog', 'fruit', 'funnel', 'furnace', 'gamecontroller',
    'gamemachine', 'gascylinder', 'gashood', 'gasstove', 'giftbox', 'glass',
    'glassmarble', 'globe', 'glove', 'goal', 'grandstand', 'grass',
    'gravestone', 'ground', 'guardrail', 'guitar', 'gun', 'hammer', 'handcart',
    'handle', 'handrail', 'hanger', 'harddiskdrive', 'hat', 'hay', 'headphone',
    'heater', 'helicopter', 'helmet', 'holder', 'hook', 'horse',
    'horse-drawncarriage', 'hot-airballoon', 'hydrovalve', 'ice',
    'inflatorpump', 'ipod', 'iron', 'ironingboard', 'jar', 'kart', 'kettle',
    'key', 'keyboard', 'kitchenrange', 'kite', 'knife', 'knifeblock', 'ladder',
    'laddertruck', 'ladle', 'laptop', 'leaves', 'lid', 'lifebuoy', 'light',
    'lightbulb', 'lighter', 'line', 'lion', 'lobster', 'lock', 'machine',
    'mailbox', 'mannequin', 'map', 'mask', 'mat', 'matchbook', 'mattress',
    'menu', 'metal', 'meterbox', 'microphone', 'microwave', 'mirror',
    'missile', 'model', 'money', 'monkey', 'mop', 'motorbike', 'mountain',
    'mouse', 'mousepad', 'musicalinstrument', 'napkin', 'net', 'newspaper',
    'oar', 'ornament', 'outlet', 'oven', 'oxygenbottle', 'pack', 'pan',
    'paper', 'paperbox', 'papercutter', 'parachute', 'parasol', 'parterre',
    'patio', 'pelage', 'pen', 'pencontainer', 'pencil', 'person', 'photo',
    'piano', 'picture', 'pig', 'pillar', 'pillow', 'pipe', 'pitcher', 'plant',
    'plastic', 'plate', 'platform', 'player', 'playground', 'pliers', 'plume',
    'poker', 'pokerchip', 'pole', 'pooltable', 'postcard', 'poster', 'pot',
    'pottedplant', 'printer', 'projector', 'pumpkin', 'rabbit', 'racket',
    'radiator', 'radio', 'rail', 'rake', 'ramp', 'rangehood', 'receiver',
    'recorder', 'recreationalmachines', 'remotecontrol', 'road', 'robot',
    'rock', 'rocket', 'rockinghorse', 'rope', 'rug', 'ruler', 'runway',
    'saddle', 'sand', 'saw', 'scale', 'scanner', 'scissors', 'scoop', 'screen',
    'screwdriver', 'sculpture', 'scythe', 'sewer', 'sewingmachine', 'shed',
    'sheep', 'shell', 'shelves', 'shoe', 'shoppingcart', 'shovel', 'sidecar',
    'sidewalk', 'sign', 'signallight', 'sink', 'skateboard', 'ski', 'sky',
    'sled', 'slippers', 'smoke', 'snail', 'snake', 'snow', 'snowmobiles',
    'sofa', 'spanner', 'spatula', 'speaker', 'speedbump', 'spicecontainer',
    'spoon', 'sprayer', 'squirrel', 'stage', 'stair', 'stapler', 'stick',
    'stickynote', 'stone', 'stool', 'stove', 'straw', 'stretcher', 'sun',
    'sunglass', 'sunshade', 'surveillancecamera', 'swan', 'sweeper',
    'swimring', 'swimmingpool', 'swing', 'switch', 'table', 'tableware',
    'tank', 'tap', 'tape', 'tarp', 'telephone', 'telephonebooth', 'tent',
    'tire', 'toaster', 'toilet', 'tong', 'tool', 'toothbrush', 'towel', 'toy',
    'toycar', 'track', 'train', 'trampoline', 'trashbin', 'tray', 'tree',
    'tricycle', 'tripod', 'trophy', 'truck', 'tube', 'turtle', 'tvmonitor',
    'tweezers', 'typewriter', 'umbrella', 'unknown', 'vacuumcleaner',
    'vendingmachine', 'videocamera', 'videogameconsole', 'videoplayer',
    'videotape', 'violin', 'wakeboard', 'wall', 'wallet', 'wardrobe',
    'washingmachine', 'watch', 'water', 'waterdispenser', 'waterpipe',
    'waterskateboard', 'watermelon', 'whale', 'wharf', 'wheel', 'wheelchair',
    'window', 'windowblinds', 'wineglass', 'wire', 'wood', 'wool')

assert len(PASCAL_CONTEXT_459_CLASSES) == 459, len(PASCAL_CONTEXT_459_CLASSES)

# CAT-Seg's list of PC-459 validation ids, byte for byte (no final newline):
# the images of the published numbers.
PASCAL_CONTEXT_VAL_FILE = osp.join(
    osp.dirname(osp.abspath(__file__)), 'splits', 'pascal_context_val.txt')


@lru_cache(maxsize=None)
def pascal_context_val_ids() -> Tuple[str, ...]:
    """The 5,104 PASCAL-Context validation ids of the PC-459 benchmark.

    Read from :data:`PASCAL_CONTEXT_VAL_FILE` (shipped with the package), in
    file order (sorted), e.g. ``'2008_000002'``.

    Returns:
        tuple[str]: The image ids, without extension.

    Raises:
        ValueError: If a line is not a VOC id (``yyyy_nnnnnn``), which means
            the packaged file was altered.
    """
    with open(PASCAL_CONTEXT_VAL_FILE, encoding='ascii') as f:
        ids = tuple(line.strip() for line in f if line.strip())
    bad = [i for i in ids if not re.fullmatch(r'\d{4}_\d{6}', i)]
    if bad:
        raise ValueError(f'{PASCAL_CONTEXT_VAL_FILE}: {len(bad)} lines are '
                         f'not VOC image ids, e.g. {bad[0]!r}')
    return ids


@DATASETS.register_module()
class PascalContext459Dataset(TiffLabelSegDataset):
    """PASCAL-Context validation set with its full 459 classes (PC-459).

    Layout::

        data/VOCdevkit/VOC2010/
            JPEGImages/2008_000002.jpg          (all VOC2010 images)
            annotations_detectron2/pc459_val/2008_000002.tif

    ``JPEGImages`` also holds unannotated images, so by default the samples
    are listed from the annotation folder (``list_from='ann'``); pass
    ``ann_file`` to use a split file instead. Label files are 16-bit TIFFs:
    ``0..458`` are classes, ``65535`` marks unlabelled pixels.
    """
    METAINFO = dict(
        classes=PASCAL_CONTEXT_459_CLASSES,
        palette=make_palette(len(PASCAL_CONTEXT_459_CLASSES), seed=459),
        prompts=load_prompts('pc459'))

    def __init__(self, list_from='ann', **kwargs) -> None:
        super().__init__(list_from=list_from, **kwargs)
