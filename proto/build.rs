//! Compiles `proto/hubnet/v1/*.proto` with protox (no system `protoc`) and generates prost code.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/hubnet/v1/record.proto",
        "proto/hubnet/v1/charter.proto",
        "proto/hubnet/v1/sync.proto",
        "proto/hubnet/v1/governance.proto",
        "proto/hubnet/v1/bundle.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    prost_build::Config::new()
        .btree_map(["."])
        // A record's four fields decode each into one buffer: into a `Vec<u8>`, prost copies
        // every bytes field twice (a `Bytes` made first, then copied into the vector), and
        // `hubnet_protocol::SignedRecord` takes a `Bytes` made this way without a copy.
        .bytes([".hubnet.v1.SignedRecord"])
        .compile_fds(descriptors)?;
    Ok(())
}
