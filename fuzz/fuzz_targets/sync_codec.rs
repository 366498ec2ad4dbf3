//! The sync codec on arbitrary stream bytes (`node/src/net/codec.rs`, the libp2p request-response
//! `SyncCodec`, read from a futures `Cursor`), then the summary a peer sends
//! (`protocol/src/sync.rs`: `Summary::from_proto`) and the sync state machine that consumes it.
//!
//! Input layout: [`hubnet_fuzz::sync_input`]. Properties: reading never panics and gives a message
//! or an `io::Error`; it never accepts a message over its size limit; a message read writes back
//! (when within the limit) to bytes that read as the same message; a summary that reads converts
//! to the wire form and back unchanged; `Sync` takes any such summary and its actions drain.
#![no_main]

use futures::executor::block_on;
use futures::io::Cursor;
use hubnet_fuzz::{NOW_MS, charter, sync_input};
use hubnet_node::net::codec::{MAX_REQUEST_BYTES, SyncCodec};
use hubnet_proto::v1::{SyncRequest, SyncResponse, sync_request, sync_response};
use hubnet_protocol::sync::{Summary, Sync, SyncConfig};
use libfuzzer_sys::fuzz_target;
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use prost::Message;

const PROTOCOL: StreamProtocol = StreamProtocol::new("/hubnet/fuzz/sync/1");

fn check_summary(heads: &hubnet_proto::v1::Heads) {
    let charter = charter();
    let Ok(summary) = Summary::from_proto(heads, charter) else {
        return;
    };
    let back = Summary::from_proto(&summary.to_proto(), charter).expect("our own summary reads");
    assert_eq!(back, summary);
    let mut sync: Sync<u8> = Sync::new(SyncConfig::default(), Summary::default(), NOW_MS);
    sync.handle_connected(1, NOW_MS);
    while sync.poll_action().is_some() {}
    let _ = summary.lag(&Summary::default());
    sync.handle_summary(1, summary, NOW_MS, &|_, _| None);
    let mut actions = 0usize;
    while sync.poll_action().is_some() {
        actions += 1;
        assert!(actions <= 100_000, "actions drain");
    }
    sync.handle_timeout(NOW_MS + 60_000);
    while sync.poll_action().is_some() {}
}

fuzz_target!(|data: &[u8]| {
    let (response, max_response_bytes, stream) = sync_input(data);
    let mut codec = SyncCodec { max_response_bytes };
    if response {
        let Ok(msg) = block_on(codec.read_response(&PROTOCOL, &mut Cursor::new(stream))) else {
            return;
        };
        assert!(msg.encoded_len() <= max_response_bytes);
        let mut out = Cursor::new(Vec::new());
        if block_on(codec.write_response(&PROTOCOL, &mut out, msg.clone())).is_ok() {
            let bytes = out.into_inner();
            let back: SyncResponse =
                block_on(codec.read_response(&PROTOCOL, &mut Cursor::new(&bytes)))
                    .expect("a written response reads back");
            assert_eq!(back, msg);
        }
        if let Some(sync_response::Response::Heads(h)) = &msg.response {
            check_summary(h);
        }
    } else {
        let Ok(msg) = block_on(codec.read_request(&PROTOCOL, &mut Cursor::new(stream))) else {
            return;
        };
        assert!(msg.encoded_len() <= MAX_REQUEST_BYTES);
        let mut out = Cursor::new(Vec::new());
        if block_on(codec.write_request(&PROTOCOL, &mut out, msg.clone())).is_ok() {
            let bytes = out.into_inner();
            let back: SyncRequest =
                block_on(codec.read_request(&PROTOCOL, &mut Cursor::new(&bytes)))
                    .expect("a written request reads back");
            assert_eq!(back, msg);
        }
        if let Some(sync_request::Request::Heads(h)) = &msg.request {
            check_summary(h);
        }
    }
});
