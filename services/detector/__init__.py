"""Face detection, alignment and quality flags: frame in, 48x48 FER-like grey crops out.

- :class:`CascadeDetector` (default for video): CenterFace on demand (``thorough=True``), BlazeFace
  full-range plus short-range follow-up around known small faces otherwise.
- :class:`BlazeFaceDetector`, :class:`CenterFaceDetector`: the single models.
- :class:`FaceAligner` with :class:`AlignGeometry` and :class:`QualityConfig`.

See ``services/detector/README.md`` for the measurements behind the choices.
"""

from emostream.detector.align import AlignGeometry, FaceAligner, align_crop
from emostream.detector.base import FaceDetector
from emostream.detector.blazeface import BlazeFaceConfig, BlazeFaceDetector
from emostream.detector.cascade import CascadeConfig, CascadeDetector
from emostream.detector.centerface import CenterFaceConfig, CenterFaceDetector
from emostream.detector.quality import QualityConfig, assess

__all__ = [
    "AlignGeometry",
    "BlazeFaceConfig",
    "BlazeFaceDetector",
    "CascadeConfig",
    "CascadeDetector",
    "CenterFaceConfig",
    "CenterFaceDetector",
    "FaceAligner",
    "FaceDetector",
    "QualityConfig",
    "align_crop",
    "assess",
]
