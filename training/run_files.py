"""The names of the files a run folder (``training/checkpoints/<run>/``) keeps, in one light module (no Keras)."""

RESUME_STATE = "resume.npz"  # weights + optimizer state, committed (training/resume_state.py, in parts when large)
TIMING_LOG = "timing.jsonl"  # one JSON line an epoch: seconds, CPU seconds, backend, precision
