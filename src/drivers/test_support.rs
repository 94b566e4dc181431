//! What the drivers' tests share: an event sink to read back, and small real servers on
//! 127.0.0.1 (ephemeral ports) for health checks to talk to.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::apply::{Event, EventSink, Stream};
use crate::model::ResourceId;
use crate::state::ResourceState;

/// A sink for `address` and the receiving end of its channel.
pub(crate) fn sink(address: &str) -> (EventSink, UnboundedReceiver<Event>) {
    let (sender, receiver) = unbounded_channel();
    let address: ResourceId = address.parse().unwrap();
    (EventSink::new(address, sender), receiver)
}

/// A recorded resource with nothing recorded, for calls that only need one to exist.
pub(crate) fn recorded() -> ResourceState {
    ResourceState {
        attributes: BTreeMap::new(),
        secret_digests: BTreeMap::new(),
        outputs: BTreeMap::new(),
        dependencies: Vec::new(),
        tainted: false,
    }
}

/// Every event sent so far.
pub(crate) fn drain(receiver: &mut UnboundedReceiver<Event>) -> Vec<Event> {
    std::iter::from_fn(|| receiver.try_recv().ok()).collect()
}

/// The progress messages among `events`.
pub(crate) fn progress(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Progress { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// The lines logged on `wanted` among `events`.
pub(crate) fn logged(events: &[Event], wanted: Stream) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Log { stream, line, .. } if *stream == wanted => Some(line.clone()),
            _ => None,
        })
        .collect()
}

/// An HTTP/1.1 reply with a length.
pub(crate) fn reply(status: u16, body: &str) -> String {
    format!("HTTP/1.1 {status} Status\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

/// A real HTTP server on 127.0.0.1: it answers its n-th connection with `replies[n]` (the last
/// one again once they run out) and sends the head of each request it read on the channel.
pub(crate) async fn serve_http(replies: Vec<String>) -> (SocketAddr, UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, requests) = unbounded_channel();
    tokio::spawn(async move {
        for reply in replies.iter().chain(std::iter::repeat(replies.last().unwrap())).take(100) {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut request = Vec::new();
            let mut buffer = [0; 1024];
            while !request.windows(4).any(|window| window == b"\r\n\r\n") && request.len() < 64 * 1024 {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => request.extend_from_slice(&buffer[..read]),
                }
            }
            let _ = sender.send(String::from_utf8_lossy(&request).into_owned());
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    (address, requests)
}

/// A server on 127.0.0.1 that accepts connections and never says a word.
pub(crate) async fn serve_silence() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..100 {
            let Ok((stream, _)) = listener.accept().await else { return };
            held.push(stream);
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    address
}

/// A port on 127.0.0.1 where nothing listens (it was free a moment ago).
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
