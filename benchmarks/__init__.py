"""labgrad's benchmark suite; see README.md here, and run.py to run it."""
