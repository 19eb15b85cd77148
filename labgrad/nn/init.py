"""labgrad.nn.init: weight initializations with PyTorch's fan and gain rules."""
from __future__ import annotations
