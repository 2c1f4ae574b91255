"""The seed notebook's imports are our public API: every one of them resolves with the seed's names."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SEED_IMPORTS = """
from infra.requirements import freeze, project_packages
from mini.experiment import Experiment
from utils.logging import SimpleLoggingConfig
from ex_color.loss import AngularAnchor, AxisAlignedSubspace, Separate, RegularizerConfig
from ex_color.training import TrainingModule
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from mini.temporal.vis import plot_timeline, realize_timeline, ParamGroup
from utils.nb import displayer_mpl
from utils.plt import Theme
from ex_color.data.color_cube import ColorCube
from ex_color.data.cube_dataset import CubeDataset, redness, stochastic_labels, exact_labels
from ex_color.data.cube_dataset import vibrancy
from ex_color.data.cyclic import arange_cyclic
from ex_color.model import CNColorMLP
from ex_color.callbacks import LabelProportionCallback
from ex_color.seed import set_deterministic_mode
from utils.progress.lightning import LightningProgress
from ex_color.inference import InferenceModule
from ex_color.vis import plot_colors, plot_cube_series, plot_latent_grid_3d_from_cube
from ex_color.surgery import ablate
"""


def test_seed_notebook_imports_resolve_in_a_fresh_interpreter():
    # A fresh interpreter, so no other test's imports can hide a missing name.
    result = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(SEED_IMPORTS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_mini_and_utils_never_import_ex_color():
    code = textwrap.dedent(
        """
        import sys
        import mini.temporal.vis, mini.experiment, mini.hither, utils.nb, utils.plt, utils.logging
        import utils.progress.lightning, utils.nbrun, infra.requirements
        leaked = sorted(m for m in sys.modules if m == 'ex_color' or m.startswith('ex_color.'))
        assert not leaked, leaked
        """
    )
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
