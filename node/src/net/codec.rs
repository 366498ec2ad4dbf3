//! The sync protocol's framing on a request-response stream: one protobuf message
//! (`hubnet.v1.SyncRequest` or `SyncResponse`) behind its varint length, bounded in size.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use hubnet_proto::v1::{SyncRequest, SyncResponse};
use libp2p::StreamProtocol;
use prost::Message;

/// Largest request accepted (a summary of every member plus fork references fits many times).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Reads and writes sync messages.
#[derive(Debug, Clone)]
pub struct SyncCodec {
    /// Largest response accepted: the range budget plus one record of slack.
    pub max_response_bytes: usize,
}

impl libp2p::request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, MAX_REQUEST_BYTES).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, self.max_response_bytes).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: SyncRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &req, MAX_REQUEST_BYTES).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: SyncResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &res, self.max_response_bytes).await
    }
}

async fn read_message<T, M>(io: &mut T, max: usize) -> io::Result<M>
where
    T: AsyncRead + Unpin + Send,
    M: Message + Default,
{
    let mut len: u64 = 0;
    for i in 0..10 {
        let mut b = [0u8; 1];
        io.read_exact(&mut b).await?;
        len |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            break;
        }
        if i == 9 {
            return Err(invalid("length prefix is not a varint".into()));
        }
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > max {
        return Err(invalid(format!(
            "message of {len} bytes is over the limit of {max}"
        )));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    M::decode(buf.as_slice()).map_err(|e| invalid(e.to_string()))
}

async fn write_message<T, M>(io: &mut T, msg: &M, max: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
    M: Message,
{
    let len = msg.encoded_len();
    if len > max {
        return Err(invalid(format!(
            "message of {len} bytes is over the limit of {max}"
        )));
    }
    io.write_all(&msg.encode_length_delimited_to_vec()).await?;
    io.flush().await
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubnet_proto::v1::{Records, sync_response};

    fn response(records: Vec<Vec<u8>>) -> SyncResponse {
        SyncResponse {
            response: Some(sync_response::Response::Records(Records { records })),
        }
    }

    #[test]
    fn a_message_round_trips_and_an_oversized_one_is_refused() -> io::Result<()> {
        futures::executor::block_on(async {
            let msg = response(vec![vec![7; 300], vec![]]);
            let mut buf = Vec::new();
            write_message(&mut buf, &msg, 1024).await?;
            let back: SyncResponse = read_message(&mut buf.as_slice(), 1024).await?;
            assert_eq!(back, msg);
            let err = read_message::<_, SyncResponse>(&mut buf.as_slice(), 100)
                .await
                .err()
                .map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.contains("over the limit")));
            let mut sink = Vec::new();
            assert!(write_message(&mut sink, &msg, 100).await.is_err());
            assert!(sink.is_empty());
            Ok(())
        })
    }

    #[test]
    fn a_truncated_or_garbled_message_is_an_error() {
        futures::executor::block_on(async {
            let mut buf = Vec::new();
            let msg = response(vec![vec![1; 10]]);
            assert!(write_message(&mut buf, &msg, 1024).await.is_ok());
            let cut = &buf[..buf.len() - 1];
            assert!(
                read_message::<_, SyncResponse>(&mut &cut[..], 1024)
                    .await
                    .is_err()
            );
            let garbled = [3u8, 0xff, 0xff, 0xff];
            assert!(
                read_message::<_, SyncResponse>(&mut &garbled[..], 1024)
                    .await
                    .is_err()
            );
            let endless = [0xffu8; 12];
            assert!(
                read_message::<_, SyncResponse>(&mut &endless[..], 1024)
                    .await
                    .is_err()
            );
        });
    }
}
