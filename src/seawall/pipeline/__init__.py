"""The pipeline (`pipeline.py`) and the ways events reach it: file replay (`replay.py`) and the
durable inbox drained by a worker (`runtime.py`)."""
