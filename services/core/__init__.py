"""Small shared pieces used by every stage: data types, class labels, settings, logging."""
