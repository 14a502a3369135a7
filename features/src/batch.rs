//! Small look-ups that arrive together run as one statement.
//!
//! A parcel at a point or a planning report is a tiny query, so PostgreSQL
//! spends much of its time per statement rather than per look-up: measured
//! on the benchmark province, 16 points in one statement cost less than
//! half as much database CPU per point as 16 statements. Look-ups go into a
//! queue per [`Batch`] (a kind of look-up on one layer version with one set
//! of visible fields); at most `max_running` statements of all queues run at
//! once. As soon as a slot is free, a queue's task takes every look-up
//! queued at that moment (up to [`MAX_BATCH`]) into one statement; a
//! look-up alone in its queue runs the plain statement. Nothing waits to
//! fill a batch: batches are the look-ups that arrived while every slot was
//! busy or while the previous ones were being sent. A batch statement that
//! fails is retried look-up by look-up, so one bad input cannot fail the
//! others, and each gets its own error.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::FeaturesError;

/// Most look-ups one statement answers.
pub const MAX_BATCH: usize = 64;

/// One kind of look-up, bound to what its statements read (a layer
/// version, the fields shown).
pub(crate) trait Batch: Send + Sync + 'static {
    type Input: Send + Sync + 'static;
    type Output: Send + 'static;

    /// The layer the look-ups are of, and the versions of the layers they
    /// read: a queue of the same layer with other versions is closed when
    /// this one starts.
    fn layer(&self) -> &str;
    fn versions(&self) -> Vec<i64>;

    /// One look-up as its plain statement.
    fn one(
        &self,
        pool: &PgPool,
        input: &Self::Input,
    ) -> impl Future<Output = Result<Self::Output, FeaturesError>> + Send;

    /// Several look-ups in one statement, answers in input order.
    fn many(
        &self,
        pool: &PgPool,
        inputs: &[&Self::Input],
    ) -> impl Future<Output = Result<Vec<Self::Output>, FeaturesError>> + Send;
}

type Reply<B> = oneshot::Sender<Result<<B as Batch>::Output, FeaturesError>>;

/// One look-up waiting in a queue.
struct Job<B: Batch> {
    pool: PgPool,
    input: B::Input,
    reply: Reply<B>,
}

/// A queue's look-up kind and its sender.
type Queue<B> = (Arc<B>, mpsc::UnboundedSender<Job<B>>);

/// The queues of one kind of look-up.
pub(crate) struct Queues<B: Batch> {
    queues: Mutex<HashMap<String, Queue<B>>>,
    running: Arc<Semaphore>,
    statements: Arc<AtomicU64>,
    lookups: AtomicU64,
}

impl<B: Batch> Queues<B> {
    /// Statements run while holding a permit of `running` (shared with
    /// other kinds of look-up).
    pub fn new(running: Arc<Semaphore>) -> Self {
        Queues {
            queues: Mutex::default(),
            running,
            statements: Arc::default(),
            lookups: AtomicU64::new(0),
        }
    }

    /// Look-ups asked for so far (`lookups / statements` is the mean batch).
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// Statements run so far (a batch counts once).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Answers `input` through `pool`, sharing a statement with the
    /// look-ups of the same key queued at the same time. `b` is used when
    /// the key's queue does not exist yet.
    pub async fn run(
        &self,
        pool: &PgPool,
        key: String,
        make: impl FnOnce() -> B,
        input: B::Input,
    ) -> Result<B::Output, FeaturesError> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        let job = Job {
            pool: pool.clone(),
            input,
            reply,
        };
        let (b, queue) = self.queue(key, make);
        if let Err(mpsc::error::SendError(job)) = queue.send(job) {
            // The queue's task is gone (the runtime is shutting down).
            return b.one(&job.pool, &job.input).await;
        }
        answer.await.unwrap_or_else(|_| {
            Err(FeaturesError::Db(sqlx::Error::Protocol(
                "look-up dropped".into(),
            )))
        })
    }

    /// The queue of `key` and its look-up kind, started (from `make`) when
    /// missing; the queues of the same layer's other keys are closed then
    /// (their tasks end once the look-ups already queued are answered).
    fn queue(&self, key: String, make: impl FnOnce() -> B) -> Queue<B> {
        let mut q = self.queues.lock().expect("batch queues lock");
        if let Some(found) = q.get(&key).filter(|(_, s)| !s.is_closed()) {
            return found.clone();
        }
        let b = Arc::new(make());
        q.retain(|_, (o, _)| o.layer() != b.layer() || o.versions() == b.versions());
        let (send, recv) = mpsc::unbounded_channel();
        tokio::spawn(serve(
            recv,
            b.clone(),
            self.running.clone(),
            self.statements.clone(),
        ));
        q.insert(key, (b.clone(), send.clone()));
        (b, send)
    }
}

/// Takes look-ups off one queue: waits for a free statement slot, then
/// runs everything queued by then (up to `MAX_BATCH`) as one statement.
async fn serve<B: Batch>(
    mut jobs: mpsc::UnboundedReceiver<Job<B>>,
    b: Arc<B>,
    running: Arc<Semaphore>,
    statements: Arc<AtomicU64>,
) {
    while let Some(first) = jobs.recv().await {
        let Ok(slot) = running.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let (b, statements) = (b.clone(), statements.clone());
        tokio::spawn(async move {
            statements.fetch_add(1, Ordering::Relaxed);
            answer(&*b, batch).await;
            drop(slot);
        });
    }
}

/// Answers `batch`: alone as the plain statement, else as one statement
/// (on the first look-up's pool), falling back to one statement each when
/// that fails.
async fn answer<B: Batch>(b: &B, batch: Vec<Job<B>>) {
    if batch.len() > 1 {
        let inputs: Vec<&B::Input> = batch.iter().map(|j| &j.input).collect();
        match b.many(&batch[0].pool, &inputs).await {
            Ok(found) if found.len() == batch.len() => {
                for (j, r) in batch.into_iter().zip(found) {
                    let _ = j.reply.send(Ok(r));
                }
                return;
            }
            Ok(found) => tracing::warn!(
                n = batch.len(),
                got = found.len(),
                "batch answered the wrong number of look-ups; one by one"
            ),
            Err(e) => tracing::debug!(error = %e, n = batch.len(), "batch failed; one by one"),
        }
    }
    for j in batch {
        let r = b.one(&j.pool, &j.input).await;
        let _ = j.reply.send(r);
    }
}
