from .vocabulary_hook import VocabularyHook, dataset_vocabulary

__all__ = ['VocabularyHook', 'dataset_vocabulary']
