//! Parcel-at-point look-ups that arrive together run as one statement.
//!
//! Each look-up is a tiny query (one GiST probe, one parcel rendered), so
//! PostgreSQL spends much of its time per statement rather than per parcel:
//! measured on the benchmark province, 16 points in one statement cost less
//! than half as much database CPU per point as 16 statements. Look-ups go
//! into a queue per (layer version, visible fields); at most `max_running`
//! statements run at once, and each takes every look-up queued meanwhile
//! (up to [`MAX_BATCH`]). A look-up that finds a free slot runs at once, on
//! its own, as the plain statement (`land::parcel_at`): batching only
//! happens when look-ups would otherwise wait. A batch statement that fails
//! is retried look-up by look-up, so one bad point cannot fail the others,
//! and each gets its own error.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use catalog::{quote_ident, Field, Layer, FID_COLUMN, GEOM_COLUMN};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::land::{parcel, parcel_at, parcel_select, Parcel, ParcelRow};
use crate::FeaturesError;

/// Most look-ups one statement answers.
pub const MAX_BATCH: usize = 64;

type Reply = oneshot::Sender<Result<Option<Parcel>, FeaturesError>>;

/// One look-up waiting in a queue.
struct Job {
    pool: PgPool,
    x: f64,
    y: f64,
    srid: i32,
    reply: Reply,
}

/// Which look-ups may share a statement: same layer version, same fields.
#[derive(Clone, PartialEq, Eq, Hash)]
struct QueueKey {
    layer: String,
    version: i64,
    fields: Vec<String>,
}

/// The queues of this server (one per layer version and field set).
pub struct ParcelLookups {
    queues: Mutex<HashMap<QueueKey, mpsc::UnboundedSender<Job>>>,
    running: Arc<Semaphore>,
    statements: Arc<AtomicU64>,
}

impl ParcelLookups {
    /// Look-ups with at most `max_running` statements at once (at least 1).
    pub fn new(max_running: usize) -> Self {
        ParcelLookups {
            queues: Mutex::default(),
            running: Arc::new(Semaphore::new(max_running.max(1))),
            statements: Arc::default(),
        }
    }

    /// Statements run so far (a batch counts once).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The parcel of `l` containing (`x`, `y`) of `srid`, as
    /// `land::parcel_at` finds it, read through `pool`.
    pub async fn at(
        &self,
        pool: &PgPool,
        l: &Layer,
        visible: &[&Field],
        (x, y): (f64, f64),
        srid: i32,
    ) -> Result<Option<Parcel>, FeaturesError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            pool: pool.clone(),
            x,
            y,
            srid,
            reply,
        };
        if let Err(mpsc::error::SendError(job)) = self.queue(l, visible).send(job) {
            // The queue's task is gone (the runtime is shutting down).
            return parcel_at(&job.pool, l, visible, x, y, srid).await;
        }
        answer.await.unwrap_or_else(|_| {
            Err(FeaturesError::Db(sqlx::Error::Protocol(
                "parcel look-up dropped".into(),
            )))
        })
    }

    /// The queue of `l`'s version and `visible`, started when missing; the
    /// queues of the layer's other versions are closed (their tasks end
    /// once the look-ups already queued are answered).
    fn queue(&self, l: &Layer, visible: &[&Field]) -> mpsc::UnboundedSender<Job> {
        let key = QueueKey {
            layer: l.name.clone(),
            version: l.version,
            fields: visible.iter().map(|f| f.name.clone()).collect(),
        };
        let mut q = self.queues.lock().expect("parcel queues lock");
        if let Some(s) = q.get(&key) {
            return s.clone();
        }
        q.retain(|k, _| k.layer != key.layer || k.version == key.version);
        let (send, recv) = mpsc::unbounded_channel();
        let fields: Vec<Field> = visible.iter().map(|f| (*f).clone()).collect();
        tokio::spawn(serve_queue(
            recv,
            Arc::new((l.clone(), fields)),
            self.running.clone(),
            self.statements.clone(),
        ));
        q.insert(key, send.clone());
        send
    }
}

/// Takes look-ups off one queue: waits for a free statement slot, then
/// runs everything queued by then (up to `MAX_BATCH`) as one statement.
async fn serve_queue(
    mut jobs: mpsc::UnboundedReceiver<Job>,
    what: Arc<(Layer, Vec<Field>)>,
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
        let (what, statements) = (what.clone(), statements.clone());
        tokio::spawn(async move {
            statements.fetch_add(1, Ordering::Relaxed);
            run(&what.0, &what.1, batch).await;
            drop(slot);
        });
    }
}

/// Answers `batch`: alone as the plain statement, else as one statement,
/// falling back to one statement each when that fails.
async fn run(l: &Layer, fields: &[Field], batch: Vec<Job>) {
    let visible: Vec<&Field> = fields.iter().collect();
    if batch.len() > 1 {
        match together(l, &visible, &batch).await {
            Ok(mut found) => {
                for (i, j) in batch.into_iter().enumerate() {
                    let _ = j.reply.send(Ok(found.remove(&(i as i64 + 1))));
                }
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, n = batch.len(), "parcel batch failed; one by one")
            }
        }
    }
    for j in batch {
        let r = parcel_at(&j.pool, l, &visible, j.x, j.y, j.srid).await;
        let _ = j.reply.send(r);
    }
}

/// The parcels of every look-up of `batch`, by its position from 1: the
/// plain statement's query, once per point (LATERAL), in one statement.
async fn together(
    l: &Layer,
    visible: &[&Field],
    batch: &[Job],
) -> Result<HashMap<i64, Parcel>, FeaturesError> {
    let sql = format!(
        "SELECT q.i, p.* FROM unnest($1::float8[], $2::float8[], $3::int4[]) WITH ORDINALITY AS q(x, y, s, i) \
         CROSS JOIN LATERAL ({} WHERE ST_Intersects(p.{g}, ST_Transform(ST_SetSRID(ST_MakePoint(q.x, q.y), q.s), {srid})) \
         ORDER BY p.{fid} LIMIT 1) p",
        parcel_select(l, visible),
        g = quote_ident(GEOM_COLUMN),
        srid = l.srid,
        fid = quote_ident(FID_COLUMN),
    );
    let xs: Vec<f64> = batch.iter().map(|j| j.x).collect();
    let ys: Vec<f64> = batch.iter().map(|j| j.y).collect();
    let ss: Vec<i32> = batch.iter().map(|j| j.srid).collect();
    let rows: Vec<(i64, i64, String, Option<String>, Option<f64>)> = sqlx::query_as(&sql)
        .bind(xs)
        .bind(ys)
        .bind(ss)
        .fetch_all(&batch[0].pool)
        .await?;
    rows.into_iter()
        .map(|(i, fid, props, geom, area)| {
            let row: ParcelRow = (fid, props, geom, area);
            Ok((i, parcel(l, row)?))
        })
        .collect()
}
