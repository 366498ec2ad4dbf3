//! Tests of governance, checkpoints and audits.
