from .vocabulary_hook import VocabularyHook, check_labels, dataset_vocabulary

__all__ = ['VocabularyHook', 'check_labels', 'dataset_vocabulary']
