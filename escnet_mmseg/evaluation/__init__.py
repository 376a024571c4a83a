from .prompt_iou_metric import PromptIoUMetric

__all__ = ['PromptIoUMetric']
