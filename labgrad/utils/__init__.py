"""Utilities shared by the core, named as in ``torch.utils``."""
