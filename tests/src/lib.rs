//! End-to-end suite for hubnet: see `tests/`.
