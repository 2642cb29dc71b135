"""Language utilities shared by the layers above: sentence boundaries, the stopword list, built-in medical text."""

from .medical_texts import MEDICAL_SENTENCES, calibration_samples
from .sentences import sentence_spans, split_sentences
from .words import STOPWORDS

__all__ = ["MEDICAL_SENTENCES", "STOPWORDS", "calibration_samples", "sentence_spans", "split_sentences"]
