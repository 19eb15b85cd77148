"""Neural-network building blocks, as torch.nn: Module and its layers, losses, init, utils."""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import *  # noqa: F401,F403
