//! [`Batcher`]: group commit for many threads sharing one store.
//!
//! Callers on any thread call [`Batcher::submit`] with one request and block for its reply. A
//! single writer thread owns the store, drains whatever requests are queued (up to
//! `batch_max`) and submits them as one transaction, so one fsync is paid per batch rather
//! than per request. Replies come back in request order per caller.

use exportgate_ledger::{LedgerStore, Reply, Request, StoreError};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

type Job = (Request, SyncSender<Result<Reply, String>>);

/// A group-commit front for one store.
pub struct Batcher {
    sender: Option<Sender<Job>>,
    writer: Option<JoinHandle<Box<dyn LedgerStore>>>,
}

impl Batcher {
    /// Starts the writer thread; `batch_max` caps requests per transaction.
    pub fn new(mut store: Box<dyn LedgerStore>, actor: String, batch_max: usize) -> Batcher {
        let batch_max = batch_max.clamp(1, exportgate_ledger::request::BATCH_SIZE_MAX);
        let (sender, receiver): (Sender<Job>, Receiver<Job>) = mpsc::channel();
        let writer = std::thread::spawn(move || {
            while let Ok(first) = receiver.recv() {
                let mut jobs = vec![first];
                while jobs.len() < batch_max {
                    match receiver.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let requests: Vec<Request> = jobs.iter().map(|(r, _)| r.clone()).collect();
                match store.submit(&actor, &requests) {
                    Ok(replies) => {
                        for ((_, reply_to), reply) in jobs.into_iter().zip(replies) {
                            let _ = reply_to.send(Ok(reply));
                        }
                    }
                    Err(e) => {
                        for (_, reply_to) in jobs {
                            let _ = reply_to.send(Err(e.to_string()));
                        }
                    }
                }
            }
            store
        });
        Batcher {
            sender: Some(sender),
            writer: Some(writer),
        }
    }

    /// Submits one request and waits until the batch holding it has committed.
    pub fn submit(&self, request: Request) -> Result<Reply, StoreError> {
        let (reply_to, reply) = mpsc::sync_channel(1);
        let gone = || StoreError::Database("the batch writer has stopped".to_owned());
        self.sender
            .as_ref()
            .ok_or_else(gone)?
            .send((request, reply_to))
            .map_err(|_| gone())?;
        reply
            .recv()
            .map_err(|_| gone())?
            .map_err(StoreError::Database)
    }

    /// Stops the writer after the queued requests and hands the store back.
    pub fn finish(mut self) -> Option<Box<dyn LedgerStore>> {
        self.sender.take();
        self.writer.take().and_then(|w| w.join().ok())
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.sender.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}
