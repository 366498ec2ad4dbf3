//! The hubnet wire contract: prost types generated from `proto/hubnet/v1/*.proto`.
//!
//! This crate is generated code and nothing else. The rules that give the bytes their meaning
//! (ids, signatures, canonical charter bytes) live in `hubnet-protocol` and `docs/PROTOCOL.md`.

/// Package `hubnet.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/hubnet.v1.rs"));
}
