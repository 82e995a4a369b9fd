"""gpu-rwa: the Python side of the suite (config and manifest models, chain helpers, operations).

Scripts under scripts/ are thin `ape run` entry points over this package.
"""
