//! What the server holds in memory per layer version (road graphs,
//! warehouse indexes): the version being built for can be newer than the
//! one requests still read, so the newest two versions of a layer are kept.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use catalog::Layer;
use sqlx::{PgPool, Postgres, Transaction};

use crate::FeaturesError;

/// What a server can read of a layer version into memory (an index).
pub trait PerVersion: Sized + Send + Sync + 'static {
    /// Reads `l` in `tx` (which then holds its table until it ends);
    /// `Ok(None)` when the layer is not one this can answer for.
    fn read(
        tx: &mut Transaction<'static, Postgres>,
        l: &Layer,
    ) -> impl std::future::Future<Output = Result<Option<Self>, FeaturesError>> + Send;

    /// Records the version it was read at.
    fn set_version(&mut self, version: i64);
}

/// Values of `T` built from the database and kept per layer version (the
/// newest two of each layer): the parcel and warehouse indexes.
pub struct Indexes<T> {
    by: ByVersion<T>,
}

impl<T> Default for Indexes<T> {
    fn default() -> Self {
        Indexes {
            by: ByVersion::default(),
        }
    }
}

impl<T: PerVersion> Indexes<T> {
    /// The value of `layer` at `version`, if built.
    pub fn get(&self, layer: &str, version: i64) -> Option<Arc<T>> {
        self.by.get(layer, version)
    }

    /// Builds (in a read-only transaction of its own) the value of the
    /// version of `l` the database holds now, and keeps it; `Ok(None)` when
    /// the layer is not one it answers for.
    pub async fn build(&self, pool: &PgPool, l: &Layer) -> Result<Option<Arc<T>>, FeaturesError> {
        let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
        let value = T::read(&mut tx, l).await?;
        self.by
            .keep_as_seen(tx, &l.name, value, T::set_version)
            .await
    }
}

/// Values by (layer, version), at most two versions per layer.
pub struct ByVersion<T> {
    by: RwLock<HashMap<(String, i64), Arc<T>>>,
}

impl<T> Default for ByVersion<T> {
    fn default() -> Self {
        ByVersion {
            by: RwLock::default(),
        }
    }
}

impl<T> ByVersion<T> {
    /// The value of `layer` at `version`, if kept.
    pub fn get(&self, layer: &str, version: i64) -> Option<Arc<T>> {
        self.by
            .read()
            .expect("by-version lock")
            .get(&(layer.to_string(), version))
            .cloned()
    }

    /// Keeps `value` for `layer` at `version`, and the newest one other
    /// version of the layer.
    ///
    /// ```
    /// let m = features::ByVersion::default();
    /// for v in [3, 1, 2] {
    ///     m.install("roads", v, std::sync::Arc::new(v * 10));
    /// }
    /// assert_eq!(m.get("roads", 1), None);
    /// assert_eq!(m.get("roads", 3).as_deref(), Some(&30));
    /// assert_eq!(m.get("roads", 2).as_deref(), Some(&20));
    /// ```
    pub fn install(&self, layer: &str, version: i64, value: Arc<T>) {
        let mut m = self.by.write().expect("by-version lock");
        let mut others: Vec<i64> = m
            .keys()
            .filter(|(l, v)| l == layer && *v != version)
            .map(|(_, v)| *v)
            .collect();
        others.sort_unstable_by(|a, b| b.cmp(a));
        for v in others.into_iter().skip(1) {
            m.remove(&(layer.to_string(), v));
        }
        m.insert((layer.to_string(), version), value);
    }

    /// Ends `tx`, in which `value` was read from `layer`'s table, and keeps
    /// `value` for the version of `layer` that `tx` sees, set into it by
    /// `set_version`. Call after reading the rows: once the transaction holds
    /// the table, it cannot be swapped before the version is read.
    pub(crate) async fn keep_as_seen(
        &self,
        mut tx: Transaction<'static, Postgres>,
        layer: &str,
        value: Option<T>,
        set_version: impl FnOnce(&mut T, i64),
    ) -> Result<Option<Arc<T>>, FeaturesError> {
        let version = catalog::live_version(&mut *tx, layer).await?;
        tx.rollback().await?;
        let (Some(mut value), Some(version)) = (value, version) else {
            return Ok(None);
        };
        set_version(&mut value, version);
        let value = Arc::new(value);
        self.install(layer, version, value.clone());
        Ok(Some(value))
    }
}
