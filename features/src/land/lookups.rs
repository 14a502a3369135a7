//! Land officers' look-ups through [`crate::batch`]: parcels at points and
//! planning reports that arrive together share statements (same answers as
//! `land::parcel_at` and `land::planning_report`, one statement for many).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use catalog::{quote_ident, Field, Layer, FID_COLUMN, GEOM_COLUMN};
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::batch::{Batch, Queues};
use crate::land::parcel::{
    parcel, parcel_at, parcel_select, planning_of, planning_sql, Parcel, ParcelRow, PlanningReport,
    ReportRow,
};
use crate::land::parcel_index::ParcelIndex;
use crate::FeaturesError;

/// Parcel-at-point look-ups and planning reports of this server.
pub struct LandLookups {
    at: Queues<ParcelAt>,
    among: Queues<ParcelAmong>,
    planning: Queues<Planning>,
    /// Narrowed look-ups that no candidate answered.
    fallbacks: AtomicU64,
}

impl LandLookups {
    /// At most `max_running` look-up statements at once (at least 1).
    pub fn new(max_running: usize) -> Self {
        let running = Arc::new(Semaphore::new(max_running.max(1)));
        LandLookups {
            at: Queues::new(running.clone()),
            among: Queues::new(running.clone()),
            planning: Queues::new(running),
            fallbacks: AtomicU64::new(0),
        }
    }

    /// Statements run so far (a batch counts once).
    pub fn statements(&self) -> u64 {
        self.at.statements() + self.among.statements() + self.planning.statements()
    }

    /// Parcel-at-point look-ups narrowed by a parcel index so far.
    pub fn narrowed(&self) -> u64 {
        self.among.lookups()
    }

    /// Look-ups asked for so far (parcels at points and planning reports).
    pub fn lookups(&self) -> u64 {
        // A narrowed look-up that no candidate answered is also in `at`.
        self.at.lookups() + self.among.lookups() + self.planning.lookups()
            - self.fallbacks.load(Ordering::Relaxed)
    }

    /// The parcel of `l` containing (`x`, `y`) of `srid`, as
    /// `land::parcel_at` finds it, read through `pool`. With `index` (the
    /// layer version's boxes), only the parcels whose box holds the point
    /// are read (by primary key); when none of them contains it, the plain
    /// statement decides.
    pub async fn parcel_at(
        &self,
        pool: &PgPool,
        l: &Layer,
        visible: &[&Field],
        (x, y): (f64, f64),
        srid: i32,
        index: Option<&ParcelIndex>,
    ) -> Result<Option<Parcel>, FeaturesError> {
        let key = format!("{}\0{}\0{}", l.name, l.version, names(visible));
        let make = || ParcelAt {
            layer: l.clone(),
            fields: visible.iter().map(|f| (*f).clone()).collect(),
        };
        let candidates = index
            .filter(|ix| ix.version == l.version)
            .and_then(|ix| ix.candidates(x, y, srid))
            .filter(|c| !c.is_empty() && c.len() <= MAX_CANDIDATES);
        if let Some(c) = candidates {
            let among = || ParcelAmong(make());
            if let Some(p) = self
                .among
                .run(pool, key.clone(), among, (x, y, srid, c))
                .await?
            {
                return Ok(Some(p));
            }
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
        }
        self.at.run(pool, key, make, (x, y, srid)).await
    }

    /// The planning report of parcel `fid`, as `land::planning_report`
    /// makes it, read through `pool`.
    pub async fn planning_report(
        &self,
        pool: &PgPool,
        parcels: &Layer,
        fid: i64,
        zones: &[(&Layer, Vec<&Field>)],
    ) -> Result<Option<PlanningReport>, FeaturesError> {
        let mut key = format!("{}\0{}", parcels.name, parcels.version);
        for (z, f) in zones {
            key.push_str(&format!("\0{}\0{}\0{}", z.name, z.version, names(f)));
        }
        let make = || Planning {
            parcels: parcels.clone(),
            zones: zones
                .iter()
                .map(|(z, f)| ((*z).clone(), f.iter().map(|x| (*x).clone()).collect()))
                .collect(),
        };
        self.planning.run(pool, key, make, fid).await
    }
}

/// Rows of the batch statements: the look-up's position (from 1), then the
/// plain statement's columns (`land::ParcelRow`, `land::ReportRow`).
type BatchParcelRow = (i64, i64, String, Option<String>, Option<f64>);
type BatchReportRow = (i64, i32, Option<i64>, Option<String>, f64);

fn names(fields: &[&Field]) -> String {
    fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Parcel at a point of one layer version, with one set of fields shown.
struct ParcelAt {
    layer: Layer,
    fields: Vec<Field>,
}

impl Batch for ParcelAt {
    type Input = (f64, f64, i32);
    type Output = Option<Parcel>;

    fn layer(&self) -> &str {
        &self.layer.name
    }

    fn versions(&self) -> Vec<i64> {
        vec![self.layer.version]
    }

    async fn one(
        &self,
        pool: &PgPool,
        &(x, y, srid): &Self::Input,
    ) -> Result<Self::Output, FeaturesError> {
        let visible: Vec<&Field> = self.fields.iter().collect();
        parcel_at(pool, &self.layer, &visible, x, y, srid).await
    }

    /// The plain statement's query once per point (LATERAL).
    async fn many(
        &self,
        pool: &PgPool,
        inputs: &[&Self::Input],
    ) -> Result<Vec<Self::Output>, FeaturesError> {
        let l = &self.layer;
        let visible: Vec<&Field> = self.fields.iter().collect();
        let sql = format!(
            "SELECT q.i, p.* FROM unnest($1::float8[], $2::float8[], $3::int4[]) WITH ORDINALITY AS q(x, y, s, i) \
             CROSS JOIN LATERAL ({} WHERE ST_Intersects(p.{g}, ST_Transform(ST_SetSRID(ST_MakePoint(q.x, q.y), q.s), {srid})) \
             ORDER BY p.{fid} LIMIT 1) p",
            parcel_select(l, &visible),
            g = quote_ident(GEOM_COLUMN),
            srid = l.srid,
            fid = quote_ident(FID_COLUMN),
        );
        let rows: Vec<BatchParcelRow> = sqlx::query_as(&sql)
            .bind(inputs.iter().map(|i| i.0).collect::<Vec<f64>>())
            .bind(inputs.iter().map(|i| i.1).collect::<Vec<f64>>())
            .bind(inputs.iter().map(|i| i.2).collect::<Vec<i32>>())
            .fetch_all(pool)
            .await?;
        let mut out: Vec<Option<Parcel>> = inputs.iter().map(|_| None).collect();
        for (i, fid, props, geom, area) in rows {
            out[i as usize - 1] = Some(parcel(l, (fid, props, geom, area))?);
        }
        Ok(out)
    }
}

/// Most candidates a narrowed look-up reads by primary key; a point in more
/// boxes than that (under a few huge parcels' boxes) is searched in GiST.
const MAX_CANDIDATES: usize = 256;

/// Parcel at a point among candidate parcels (ids, smallest first): as
/// [`ParcelAt`], but reading only those parcels, by primary key.
struct ParcelAmong(ParcelAt);

impl ParcelAmong {
    /// The plain statement limited to the candidates of each row of
    /// `unnest(...) AS c(i, fid, x, y, s)`.
    fn sql(&self) -> String {
        let l = &self.0.layer;
        let visible: Vec<&Field> = self.0.fields.iter().collect();
        format!(
            "SELECT c.i, p.* FROM unnest($1::int8[], $2::int8[], $3::float8[], $4::float8[], $5::int4[]) AS c(i, fid, x, y, s) \
             CROSS JOIN LATERAL ({} WHERE p.{fid} = c.fid \
             AND ST_Intersects(p.{g}, ST_Transform(ST_SetSRID(ST_MakePoint(c.x, c.y), c.s), {srid}))) p",
            parcel_select(l, &visible),
            g = quote_ident(GEOM_COLUMN),
            srid = l.srid,
            fid = quote_ident(FID_COLUMN),
        )
    }
}

impl Batch for ParcelAmong {
    type Input = (f64, f64, i32, Vec<i64>);
    type Output = Option<Parcel>;

    fn layer(&self) -> &str {
        self.0.layer()
    }

    fn versions(&self) -> Vec<i64> {
        self.0.versions()
    }

    async fn one(&self, pool: &PgPool, input: &Self::Input) -> Result<Self::Output, FeaturesError> {
        Ok(self.many(pool, &[input]).await?.pop().flatten())
    }

    /// One row per (look-up, candidate); each look-up's answer is its
    /// containing candidate with the smallest id (the plain statement's
    /// `ORDER BY fid LIMIT 1`).
    async fn many(
        &self,
        pool: &PgPool,
        inputs: &[&Self::Input],
    ) -> Result<Vec<Self::Output>, FeaturesError> {
        let (mut i, mut fid, mut x, mut y, mut s) = (vec![], vec![], vec![], vec![], vec![]);
        for (k, input) in inputs.iter().enumerate() {
            for f in &input.3 {
                i.push(k as i64 + 1);
                fid.push(*f);
                x.push(input.0);
                y.push(input.1);
                s.push(input.2);
            }
        }
        let rows: Vec<BatchParcelRow> = sqlx::query_as(&self.sql())
            .bind(i)
            .bind(fid)
            .bind(x)
            .bind(y)
            .bind(s)
            .fetch_all(pool)
            .await?;
        let l = &self.0.layer;
        let mut best: Vec<Option<ParcelRow>> = inputs.iter().map(|_| None).collect();
        for (k, fid, props, geom, area) in rows {
            let b = &mut best[k as usize - 1];
            if b.as_ref().is_none_or(|r| fid < r.0) {
                *b = Some((fid, props, geom, area));
            }
        }
        best.into_iter()
            .map(|r| r.map(|r| parcel(l, r)).transpose())
            .collect()
    }
}

/// Planning reports over one parcels layer version and zone layer versions.
struct Planning {
    parcels: Layer,
    zones: Vec<(Layer, Vec<Field>)>,
}

impl Planning {
    fn zones(&self) -> Vec<(&Layer, Vec<&Field>)> {
        self.zones
            .iter()
            .map(|(z, f)| (z, f.iter().collect()))
            .collect()
    }
}

impl Batch for Planning {
    type Input = i64;
    type Output = Option<PlanningReport>;

    fn layer(&self) -> &str {
        &self.parcels.name
    }

    fn versions(&self) -> Vec<i64> {
        std::iter::once(self.parcels.version)
            .chain(self.zones.iter().map(|(z, _)| z.version))
            .collect()
    }

    async fn one(&self, pool: &PgPool, fid: &i64) -> Result<Self::Output, FeaturesError> {
        crate::land::parcel::planning_report(pool, &self.parcels, *fid, &self.zones()).await
    }

    /// The plain statement over all the parcels, rows led by their position.
    async fn many(
        &self,
        pool: &PgPool,
        inputs: &[&i64],
    ) -> Result<Vec<Self::Output>, FeaturesError> {
        let zones = self.zones();
        let sql = planning_sql(&self.parcels, &zones, true);
        let fids: Vec<i64> = inputs.iter().map(|f| **f).collect();
        let rows: Vec<BatchReportRow> = sqlx::query_as(&sql).bind(&fids).fetch_all(pool).await?;
        let mut each: Vec<Vec<ReportRow>> = inputs.iter().map(|_| Vec::new()).collect();
        for (i, k, zfid, props, a) in rows {
            each[i as usize - 1].push((k, zfid, props, a));
        }
        fids.iter()
            .zip(each)
            .map(|(fid, rows)| planning_of(&self.parcels, &zones, *fid, rows))
            .collect()
    }
}
