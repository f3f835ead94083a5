"""Text classifiers for violent threats and extremist content (see docs/classifiers.md).

features  hashed character / word n-grams over the normalisation skeleton, vectorised per batch
linear    per-label logistic regression + Platt calibration, stored as plain .npz arrays
cascade   stage 1 on every post; stage 2 (wordcnn: a small word CNN, numpy) on a capped share of
          undecided posts; stage2: its training (PyTorch, training only) and measurement
train     numpy L-BFGS training; datasets: loaders and group splits; report/evaluate: figures
account   account-level aggregation; obfuscate: evasion copies of test texts; cli: train/eval/score
"""
