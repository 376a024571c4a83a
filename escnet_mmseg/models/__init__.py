from .bce_loss import PerClassBCELoss
from .clip_backbone import CLIPBackbone
from .esc_block import ESCBlock
from .esc_neck import ESCNeck, cosine_correlation
from .escnet import ESCNet
from .escnet_head import ESCNetHead
from .escnet_tta import ESCTTAModel
from .ppg import PseudoPromptGenerator
from .sam_block import SAMBlock
from .text_encoder import ESCTextEncoder
from .vlf import VLF

__all__ = [
    'CLIPBackbone', 'ESCTextEncoder', 'ESCBlock', 'ESCNeck', 'ESCNet',
    'ESCNetHead', 'ESCTTAModel', 'PerClassBCELoss', 'PseudoPromptGenerator',
    'SAMBlock', 'VLF', 'cosine_correlation'
]
