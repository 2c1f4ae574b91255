"""The seed's import path for prediction: ``from ex_color.inference import InferenceModule``.

The model room (`ex_color.model`) is the one home: `InferenceModule` lives in
`ex_color.model.inference_module`, `infer` and `Inference` in `ex_color.model.inference`.
"""

from ex_color.model.inference import Inference, infer
from ex_color.model.inference_module import InferenceModule

__all__ = ['Inference', 'InferenceModule', 'infer']
