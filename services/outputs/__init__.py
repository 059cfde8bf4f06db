"""Writers for the embedded mode's output folder: timeline.json, timeline.csv, annotated.mp4, timeline.png.

Each writer is its own module, imported on demand (``plot`` pulls in matplotlib, ``annotated_video`` OpenCV).
"""
