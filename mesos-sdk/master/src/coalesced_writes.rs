//! Sending what one poll of a connection wrote in one system call.
//!
//! Mesos's scheduler and executor libraries, and the SDK's drivers, pipeline their
//! calls on one connection. hyper answers each call as it handles it and writes the
//! answer out at once, so a burst of pipelined calls costs a `writev` per answer, and
//! the client a wake-up and a read per answer. [`coalesce`] wraps a connection so that
//! every write made while the connection's task is polled goes into one buffer, sent
//! when the poll ends: the answers hyper gives in one poll (up to 16 pipelined calls
//! whose handlers answer at once) leave in one write.
//!
//! An answer hyper gives while it is still making another on the same connection (a
//! handler that waits for the agent's event loop, as the executor API's do) is held
//! until that one is made too, so that they leave together, but at most [`MAX_HOLD`]:
//! a burst of pipelined calls is answered in few writes whether or not its handlers
//! answer at once. Otherwise the buffer is sent at the end of the poll that filled it.
//! It holds at most [`MAX_BUFFERED`] bytes: past that, a write first sends what is
//! buffered, and waits, as a plain socket would, while the peer does not read, so
//! hyper's own bounds on what it buffers for a slow reader still hold. A write that
//! large (a big `/state`) goes to the socket directly, uncopied.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most bytes buffered before a write must wait for the socket; a write at least
/// this large goes to the socket directly, uncopied.
const MAX_BUFFERED: usize = 64 * 1024;

/// The buffer's capacity kept once it is sent: a connection that once sent a burst
/// does not keep its memory.
const KEPT_CAPACITY: usize = 8 * 1024;

/// The longest an answer is held for the one being made after it.
const MAX_HOLD: Duration = Duration::from_millis(1);

/// Wraps `stream` for a connection task: the returned stream is given to the HTTP
/// server, and the returned [`SendAtPollEnd`] runs the server's connection future.
pub(crate) fn coalesce<S>(stream: S) -> (CoalescedStream<S>, SendAtPollEnd<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let shared = Arc::new(Mutex::new(Outgoing {
        stream,
        buffer: Vec::new(),
    }));
    (
        CoalescedStream {
            shared: shared.clone(),
        },
        SendAtPollEnd {
            shared,
            answering: Answering::default(),
        },
    )
}

/// How many answers a connection is making (requests handed to the router whose
/// answer has not been given yet). Cheap to clone: clones share the count.
#[derive(Clone, Debug, Default)]
pub(crate) struct Answering(Arc<AtomicUsize>);

impl Answering {
    /// Counts one answer being made until the returned guard is dropped.
    pub(crate) fn start(&self) -> AnsweringGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        AnsweringGuard(self.0.clone())
    }

    fn any(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }
}

/// One answer being made; dropped when it is given (or its request abandoned).
pub(crate) struct AnsweringGuard(Arc<AtomicUsize>);

impl Drop for AnsweringGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The socket and the bytes written to it but not yet sent.
struct Outgoing<S> {
    stream: S,
    buffer: Vec<u8>,
}

impl<S: AsyncWrite + Unpin> Outgoing<S> {
    /// Sends the buffer; `Pending` (with a wake-up when the socket can take more) while
    /// the socket is full.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut sent = 0;
        let result = loop {
            if sent == self.buffer.len() {
                break Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.stream).poll_write(cx, &self.buffer[sent..]) {
                Poll::Ready(Ok(0)) => break Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(error)) => break Poll::Ready(Err(error)),
                Poll::Pending => break Poll::Pending,
            }
        };
        self.buffer.drain(..sent);
        if self.buffer.is_empty() && self.buffer.capacity() > KEPT_CAPACITY {
            self.buffer.shrink_to(KEPT_CAPACITY);
        }
        result
    }
}

fn lock<S>(shared: &Mutex<Outgoing<S>>) -> MutexGuard<'_, Outgoing<S>> {
    // Only the connection's own task takes the lock; a panic there ends the connection.
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// The connection as the HTTP server sees it: reads go to the socket, writes to the
/// buffer (sent when the poll ends, or first when it is full).
pub(crate) struct CoalescedStream<S> {
    shared: Arc<Mutex<Outgoing<S>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for CoalescedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut lock(&self.shared).stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> CoalescedStream<S> {
    /// The socket, with room in the buffer for `len` more bytes, or `None` when the
    /// write is at least [`MAX_BUFFERED`] bytes and goes to the socket directly (after
    /// what is buffered). Sends the buffer first when the write does not fit.
    fn poll_room(
        &self,
        cx: &mut Context<'_>,
        len: usize,
    ) -> Poll<io::Result<(MutexGuard<'_, Outgoing<S>>, bool)>> {
        let mut outgoing = lock(&self.shared);
        if outgoing.buffer.len() + len > MAX_BUFFERED {
            ready!(outgoing.poll_send(cx))?;
        }
        Poll::Ready(Ok((outgoing, len < MAX_BUFFERED)))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CoalescedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let (mut outgoing, fits) = ready!(self.poll_room(cx, buf.len()))?;
        if !fits {
            return Pin::new(&mut outgoing.stream).poll_write(cx, buf);
        }
        outgoing.buffer.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        let (mut outgoing, fits) = ready!(self.poll_room(cx, len))?;
        if !fits {
            return Pin::new(&mut outgoing.stream).poll_write_vectored(cx, bufs);
        }
        for buf in bufs {
            outgoing.buffer.extend_from_slice(buf);
        }
        Poll::Ready(Ok(len))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Nothing to do now: the buffer is sent when the poll ends.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut outgoing = lock(&self.shared);
        ready!(outgoing.poll_send(cx))?;
        Pin::new(&mut outgoing.stream).poll_shutdown(cx)
    }
}

/// Runs a connection future, and after each of its polls sends what it wrote.
pub(crate) struct SendAtPollEnd<S> {
    shared: Arc<Mutex<Outgoing<S>>>,
    answering: Answering,
}

impl<S: AsyncWrite + Unpin> SendAtPollEnd<S> {
    /// The count of answers being made, which the connection's service keeps.
    pub(crate) fn answering(&self) -> Answering {
        self.answering.clone()
    }

    /// Polls `connection` to its end, sending after every poll (or holding what was
    /// written while another answer is being made, at most [`MAX_HOLD`]).
    pub(crate) async fn run<F: Future>(self, connection: F) -> F::Output {
        let mut connection = std::pin::pin!(connection);
        let mut held: Option<Pin<Box<tokio::time::Sleep>>> = None;
        std::future::poll_fn(|cx| {
            let polled = connection.as_mut().poll(cx);
            let mut outgoing = lock(&self.shared);
            if polled.is_pending() && self.answering.any() && !outgoing.buffer.is_empty() {
                // The answer being made wakes this task when it is given.
                let deadline = held.get_or_insert_with(|| Box::pin(tokio::time::sleep(MAX_HOLD)));
                if deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            held = None;
            // A failed send fails the connection's next write or read; a full socket
            // wakes this task when it can take more.
            let _ = outgoing.poll_send(cx);
            polled
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Writes made in one poll leave together, when the poll ends, and not before.
    #[tokio::test]
    async fn writes_of_one_poll_are_sent_when_it_ends() {
        let (ours, mut peer) = tokio::io::duplex(1024 * 1024);
        let (mut stream, sender) = coalesce(ours);
        let mut polls = 0;
        let connection = std::future::poll_fn(|cx| {
            polls += 1;
            let mut write = |text: &[u8]| Pin::new(&mut stream).poll_write(cx, text);
            assert!(matches!(write(b"one "), Poll::Ready(Ok(4))));
            assert!(matches!(write(b"two"), Poll::Ready(Ok(3))));
            if polls == 1 {
                // Nothing is sent during the poll.
                let mut nothing = [0u8; 8];
                let mut read = ReadBuf::new(&mut nothing);
                assert!(Pin::new(&mut peer).poll_read(cx, &mut read).is_pending());
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(())
        });
        sender.run(connection).await;
        drop(stream);
        let mut received = String::new();
        peer.read_to_string(&mut received).await.unwrap();
        assert_eq!(received, "one twoone two");
    }

    /// A peer that does not read stops the writer once the buffer and the socket are
    /// full: nothing is buffered without bound.
    #[tokio::test]
    async fn a_peer_that_does_not_read_stops_the_writer() {
        let (ours, mut peer) = tokio::io::duplex(1024);
        let (mut stream, sender) = coalesce(ours);
        let chunk = vec![7u8; 4096];
        let mut written = 0usize;
        let connection = std::future::poll_fn(|cx| {
            loop {
                match Pin::new(&mut stream).poll_write(cx, &chunk) {
                    Poll::Ready(Ok(n)) => written += n,
                    Poll::Ready(Err(error)) => panic!("{error}"),
                    Poll::Pending => return Poll::Ready(written),
                }
            }
        });
        let written = sender.run(connection).await;
        assert!(written <= MAX_BUFFERED + 1024 + chunk.len(), "{written}");
        // What was accepted is delivered once the peer reads.
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            peer.read_to_end(&mut all).await.unwrap();
            all.len()
        });
        stream.shutdown().await.unwrap();
        drop(stream);
        assert_eq!(reader.await.unwrap(), written);
    }

    /// An answer given while another is being made leaves with it, not before.
    #[tokio::test]
    async fn an_answer_is_held_while_the_next_one_is_being_made() {
        let (ours, mut peer) = tokio::io::duplex(1024 * 1024);
        let (mut stream, sender) = coalesce(ours);
        let answering = sender.answering();
        let mut next = Some(answering.start());
        let mut polls = 0;
        let connection = std::future::poll_fn(|cx| {
            polls += 1;
            let mut nothing = [0u8; 8];
            let mut read = ReadBuf::new(&mut nothing);
            assert!(
                Pin::new(&mut peer).poll_read(cx, &mut read).is_pending(),
                "nothing sent before both answers are given (poll {polls})"
            );
            if polls == 1 {
                assert!(Pin::new(&mut stream).poll_write(cx, b"first ").is_ready());
                return Poll::Pending; // The next answer wakes the task.
            }
            drop(next.take());
            assert!(Pin::new(&mut stream).poll_write(cx, b"second").is_ready());
            Poll::Ready(())
        });
        {
            let mut run = std::pin::pin!(sender.run(connection));
            // First poll: the first answer is written and held.
            assert!(futures::poll!(run.as_mut()).is_pending());
            // Second poll: the next answer is given, and both leave.
            assert!(futures::poll!(run.as_mut()).is_ready());
        }
        drop(stream);
        let mut received = String::new();
        peer.read_to_string(&mut received).await.unwrap();
        assert_eq!(received, "first second");
    }

    /// A held answer leaves after `MAX_HOLD` even if the next one is never given.
    #[tokio::test(start_paused = true)]
    async fn an_answer_is_held_at_most_max_hold() {
        let (ours, mut peer) = tokio::io::duplex(1024);
        let (mut stream, sender) = coalesce(ours);
        let answering = sender.answering();
        let _never_given = answering.start();
        let start = tokio::time::Instant::now();
        tokio::spawn(sender.run(std::future::poll_fn(move |cx| {
            let _ = Pin::new(&mut stream).poll_write(cx, b"held");
            Poll::<()>::Pending
        })));
        let mut received = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(1), peer.read_exact(&mut received))
            .await
            .expect("the held answer is sent")
            .unwrap();
        assert_eq!(&received, b"held");
        assert!(start.elapsed() >= MAX_HOLD, "{:?}", start.elapsed());
    }

    /// A write larger than the buffer goes to the socket as it is, after what was
    /// buffered, and is taken only as far as the socket takes it.
    #[tokio::test]
    async fn a_large_write_goes_to_the_socket_after_the_buffer() {
        let (ours, mut peer) = tokio::io::duplex(1024);
        let (mut stream, _sender) = coalesce(ours);
        let large = vec![9u8; MAX_BUFFERED];
        let taken = std::future::poll_fn(|cx| {
            assert!(matches!(
                Pin::new(&mut stream).poll_write(cx, b"head"),
                Poll::Ready(Ok(4))
            ));
            Pin::new(&mut stream).poll_write(cx, &large)
        })
        .await
        .unwrap();
        assert!(taken <= 1024 - 4, "{taken} bytes taken by a 1 KiB socket");
        let mut received = vec![0u8; 4 + taken];
        peer.read_exact(&mut received).await.unwrap();
        assert_eq!(&received[..4], b"head");
        assert!(received[4..].iter().all(|b| *b == 9));
    }
}
