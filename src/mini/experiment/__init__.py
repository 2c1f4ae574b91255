"""Run a notebook's async functions on Modal, or locally when Modal is not configured.

`Experiment` is the entry point; `PythonImage` describes the container image as data;
`CheckpointStore` saves state dicts locally or on a Modal Volume. See `mini.hither` for calling back
from remote code into the notebook. Modal is imported only when a Modal feature is used, so the
local backend works without the `modal` extra installed.
"""

from mini.experiment.backend import (
    BACKEND_ENV,
    BACKENDS,
    BackendChoice,
    ModalAuthError,
    choose_backend,
    find_modal_credentials,
    require_modal_credentials,
)
from mini.experiment.checkpoints import CheckpointError, CheckpointStore, slugify
from mini.experiment.experiment import Experiment, Session
from mini.experiment.guards import Guard, Guards
from mini.experiment.image import CPU_TORCH_INDEX, PythonImage
from mini.experiment.remote import RemoteCall, ThitherSpec

__all__ = [
    'BACKENDS',
    'BACKEND_ENV',
    'BackendChoice',
    'CheckpointError',
    'CheckpointStore',
    'Experiment',
    'Guard',
    'Guards',
    'ModalAuthError',
    'CPU_TORCH_INDEX',
    'PythonImage',
    'RemoteCall',
    'Session',
    'ThitherSpec',
    'choose_backend',
    'find_modal_credentials',
    'require_modal_credentials',
    'slugify',
]
