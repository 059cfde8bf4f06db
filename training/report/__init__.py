"""Pieces of the evaluation report (``python -m training.evaluate``): numbers, figures, model card."""
