//! Prints the signature rule's test vectors (`protocol/tests/vectors/ed25519.json`):
//! `cargo run -p hubnet-protocol --example ed25519_vectors > protocol/tests/vectors/ed25519.json`.

fn main() {
    print!("{}", hubnet_protocol::signature::vectors::to_json());
}
