"""Neural-network building blocks. This release has the functional API; layers follow."""
from . import functional  # noqa: F401
