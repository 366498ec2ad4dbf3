//! Messages of a version this node does not understand (docs/PROTOCOL.md §6.5): the verdicts
//! are `protocol::sync`'s (set aside, never penalised); what this module keeps is the memory
//! that makes the log say so once per peer and kind of message, not once per message, and the
//! test-only switch that makes a node sign checkpoints of a newer version.

use std::collections::HashSet;

use hubnet_protocol::checkpoint::CHECKPOINT_VERSION;
use libp2p::PeerId;
use tracing::warn;

/// **Test only.** Environment variable read once when `hubnet run` starts: a checkpoint version
/// above this release's ([`CHECKPOINT_VERSION`]) that the node then signs its checkpoints with
/// and understands, as a newer release would, so that a test can run nodes of two message
/// versions side by side. Never set it on a real node: nodes of this release set its
/// checkpoints aside, so its view goes unwitnessed.
pub const TEST_CHECKPOINT_VERSION: &str = "HUBNET_TEST_CHECKPOINT_VERSION";

/// The checkpoint version this node signs and the newest it understands:
/// [`CHECKPOINT_VERSION`], or the one [`TEST_CHECKPOINT_VERSION`] names (a value that is not a
/// version above this release's is ignored, with a warning).
pub fn checkpoint_version() -> u32 {
    let Ok(text) = std::env::var(TEST_CHECKPOINT_VERSION) else {
        return CHECKPOINT_VERSION;
    };
    match text.trim().parse::<u32>() {
        Ok(v) if v >= CHECKPOINT_VERSION => {
            if v > CHECKPOINT_VERSION {
                warn!(
                    version = v,
                    "{TEST_CHECKPOINT_VERSION} is set (a test switch): this node signs checkpoints \
                     of version {v}, which nodes of this release set aside"
                );
            }
            v
        }
        _ => {
            warn!(
                value = %text,
                "{TEST_CHECKPOINT_VERSION} is not a checkpoint version of at least \
                 {CHECKPOINT_VERSION}; ignored"
            );
            CHECKPOINT_VERSION
        }
    }
}

/// The kinds of message a node may receive in a version it does not understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// A record of a kind a newer release added.
    Record,
    /// A checkpoint of a newer version.
    Checkpoint,
    /// A governance decision of an action a newer release added.
    Decision,
}

/// Most (peer, message) pairs remembered; past it nothing more is logged at `info` (a node
/// with more peers than this of a newer release has said it often enough).
const REMEMBERED: usize = 4096;

/// Which peers already sent which kind of message this node set aside.
#[derive(Debug, Default)]
pub struct SetAside {
    seen: HashSet<(PeerId, Message)>,
}

impl SetAside {
    /// Whether this is the first `what` set aside from `peer` (log it at `info`; later ones at
    /// `debug`).
    pub fn first(&mut self, peer: PeerId, what: Message) -> bool {
        self.seen.len() < REMEMBERED && self.seen.insert((peer, what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_peer_and_message_is_first_once_and_the_memory_is_bounded() {
        let mut s = SetAside::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        assert!(s.first(a, Message::Checkpoint));
        assert!(!s.first(a, Message::Checkpoint));
        assert!(s.first(a, Message::Record));
        assert!(s.first(b, Message::Checkpoint));
        for _ in 0..REMEMBERED {
            s.first(PeerId::random(), Message::Decision);
        }
        assert_eq!(s.seen.len(), REMEMBERED);
        assert!(!s.first(PeerId::random(), Message::Decision), "bounded");
    }
}
