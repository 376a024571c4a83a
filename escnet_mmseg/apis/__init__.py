from .inferencer import OpenVocabInferencer, make_palette

__all__ = ['OpenVocabInferencer', 'make_palette']
