"""Builds the stage objects from settings, the one place that knows which classes make a pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from emostream.classifier.engine import DEFAULT_MODEL, EmotionClassifier, OnnxEmotionClassifier
from emostream.detector.align import AlignGeometry, FaceAligner
from emostream.detector.base import FaceDetector
from emostream.detector.stage import DetectorStage, DetectorStageConfig

DetectorName = Literal["cascade", "blazeface", "centerface"]


class PipelineSettings(BaseSettings):
    """Settings of the embedded pipeline (env prefix ``EMOSTREAM_``; unknown keys are an error)."""

    model_config = SettingsConfigDict(env_prefix="EMOSTREAM_", extra="forbid", secrets_dir=None)

    model: Path = Field(default=DEFAULT_MODEL, description="emotion model (.onnx)")
    detector: DetectorName = "cascade"
    thorough_every: int = Field(default=0, ge=0, description="thorough (small-face) pass every N frames; 0: by size")
    threads: int = Field(default=1, ge=0, description="ONNX Runtime intra-op threads per model (0: all cores)")
    providers: tuple[str, ...] = ("CUDAExecutionProvider", "CPUExecutionProvider")
    eye_distance: float = Field(default=AlignGeometry().eye_distance, gt=0.1, lt=0.9)
    eye_y: float = Field(default=AlignGeometry().eye_y, gt=0.1, lt=0.9)


def build_detector(settings: PipelineSettings) -> FaceDetector:
    if settings.detector == "cascade":
        from emostream.detector.cascade import CascadeConfig, CascadeDetector

        return CascadeDetector(CascadeConfig(intra_op_threads=settings.threads))
    if settings.detector == "centerface":
        from emostream.detector.centerface import CenterFaceConfig, CenterFaceDetector

        return CenterFaceDetector(CenterFaceConfig(intra_op_threads=settings.threads))
    from emostream.detector.blazeface import BlazeFaceConfig, BlazeFaceDetector

    return BlazeFaceDetector(BlazeFaceConfig(variant="full", intra_op_threads=settings.threads))


def build_classifier(settings: PipelineSettings) -> OnnxEmotionClassifier:
    return OnnxEmotionClassifier(settings.model, settings.providers, intra_op_threads=settings.threads)


def build_stage(settings: PipelineSettings, classifier: EmotionClassifier | None = None) -> DetectorStage:
    """The detector stage; ``classifier`` replaces the in-process engine (a gRPC client, the server's batcher)."""
    aligner = FaceAligner(AlignGeometry(eye_distance=settings.eye_distance, eye_y=settings.eye_y))
    return DetectorStage(
        build_detector(settings),
        classifier if classifier is not None else build_classifier(settings),
        aligner,
        DetectorStageConfig(thorough_every=settings.thorough_every),
    )
