"""AbstractVision's benchmarks: ``python -m bench`` runs them all and writes ``bench/RESULTS.md``.

Every figure is a ratio against a baseline measured in the same run, interleaved. Not tests.
"""
