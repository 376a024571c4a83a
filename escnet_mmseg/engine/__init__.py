from .vocabulary_hook import VocabularyHook

__all__ = ['VocabularyHook']
