from .inferencer import OpenVocabInferencer

__all__ = ['OpenVocabInferencer']
