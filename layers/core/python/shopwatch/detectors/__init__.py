"""Pure detectors: features in, findings out, no I/O.

Training, evaluation, replay and Lambda all call these same functions, so there is no training/serving skew.
"""
