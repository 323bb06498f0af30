"""Session runner driven by a TOML pipeline definition (see ``pipelines/``)."""

from .config import PipelineConfig, config_from_dict, load_pipeline
from .session import OUTPUTS, SessionResult, run_session

__all__ = ["OUTPUTS", "PipelineConfig", "SessionResult", "config_from_dict", "load_pipeline", "run_session"]
