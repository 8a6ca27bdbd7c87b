"""Learned neural samplers in torch: training utilities and autoregressive networks (MADE / VAN).

* ``training``: the shared training loop ``fit`` with ``TrainConfig`` / ``TrainHistory``, checkpoints,
  devices (``pick_device``: CUDA when present, else CPU) and the alphabet-index data helper.
* ``made``: ``MADE``, a masked autoregressive network over n sites with K states each.
* ``pixelcnn``: ``PixelCNN``, a masked-convolution autoregressive network on an L x M lattice (optional Z2).
* ``autoregressive_training``: maximum-likelihood training on samples (``train_made_ml``), variational
  training from the energy (``train_van``) and importance-sampling estimates of log Z.
* ``samplers``: ``NeuralAutoregressiveSampler`` (i.i.d. from the network), ``NeuralMCMC``
  (independence Metropolis-Hastings with the network as proposal) and ``VariationalAutoregressive`` (train
  a MADE by VAN on the model, then sample it: the train-then-sample form for sweeps), returning ``Samples``.
"""

from .autoregressive_training import (
    ImportanceEstimate,
    ImportanceSummary,
    VANResult,
    importance_log_z,
    importance_summary,
    train_made_ml,
    train_van,
)
from .made import MADE
from .pixelcnn import PixelCNN
from .samplers import NeuralAutoregressiveSampler, NeuralMCMC, VariationalAutoregressive
from .training import (
    NonFiniteLossError,
    TrainConfig,
    TrainHistory,
    as_index_tensor,
    count_parameters,
    fit,
    index_to_alphabet,
    load_checkpoint,
    pick_device,
    save_checkpoint,
    torch_seed,
)

__all__ = [
    "MADE", "NeuralAutoregressiveSampler", "NeuralMCMC",
    "NonFiniteLossError", "TrainConfig", "TrainHistory",
    "ImportanceEstimate", "VANResult", "as_index_tensor", "count_parameters", "fit", "importance_log_z",
    "index_to_alphabet", "load_checkpoint", "pick_device", "save_checkpoint", "torch_seed", "train_made_ml",
    "train_van", "PixelCNN", "ImportanceSummary", "importance_summary",
]

# -- learned denoisers and flow-matching velocities (Gaussian-channel paths) ----------------------------------
from .denoiser import (  # noqa: E402
    CouplingDenoiser,
    DenoiserNetwork,
    MLPDenoiser,
    NeuralDenoiser,
    TimeFeatures,
    denoising_loss,
    train_denoiser,
)
from .flow_matching import (  # noqa: E402
    FlowDiffusionComparison,
    GaussianMixture,
    TwoLayerReLUVelocity,
    VelocityField,
    compare_flow_diffusion,
    continuous_carrier,
    empirical_wasserstein,
    flow_matching_loss,
    sliced_wasserstein,
    train_velocity,
)

__all__ += [
    "CouplingDenoiser", "DenoiserNetwork", "MLPDenoiser", "NeuralDenoiser", "TimeFeatures",
    "denoising_loss", "train_denoiser", "FlowDiffusionComparison",
    "GaussianMixture", "TwoLayerReLUVelocity", "VelocityField", "compare_flow_diffusion", "continuous_carrier",
    "empirical_wasserstein", "flow_matching_loss", "sliced_wasserstein", "train_velocity",
]

# -- amortised denoisers of the dense spiked Wigner model, trained on fresh planted pairs --------------------
from .amortised_amp import AmortisedAMP, AmortisedDenoiser, BoundAmortisedAMP  # noqa: E402
from .amortised_tensor import AmortisedTensorAMP, PlantedSpikedTensor  # noqa: E402
from .amortised_training import (  # noqa: E402
    PlantedMSE,
    WarmStarts,
    planted_denoising_loss,
    planted_mse,
    train_amortised_denoiser,
)
from .planted_data import PlantedBatch, PlantedSpikedWigner  # noqa: E402

__all__ += [
    "AmortisedAMP", "AmortisedDenoiser", "BoundAmortisedAMP", "PlantedBatch", "PlantedMSE", "PlantedSpikedWigner",
    "WarmStarts", "planted_denoising_loss", "planted_mse", "train_amortised_denoiser", "AmortisedTensorAMP",
    "PlantedSpikedTensor",
]

__all__ += ["VariationalAutoregressive"]

# -- learned message passing on sparse factor graphs (planted colouring / NAE-SAT), BP-initialised ------------
from .message_passing import MessagePassingDenoiser, MPOutput, SparseGraph, SparseMessagePassing  # noqa: E402
from .message_passing_training import (  # noqa: E402
    BPComparison,
    compare_with_bp,
    planted_cross_entropy,
    train_message_passing,
)
from .planted_sparse_data import PlantedSparsePairs, SparseBatch, planted_indices  # noqa: E402

__all__ += [
    "MessagePassingDenoiser", "MPOutput", "SparseGraph", "SparseMessagePassing", "BPComparison", "compare_with_bp",
    "planted_cross_entropy", "train_message_passing", "PlantedSparsePairs", "SparseBatch", "planted_indices",
]
