//! The layers as this server knows them: loaded from the catalog at start and
//! refreshed when an import or rollback announces a new version (NOTIFY).
//! Reading it costs no database round trip on the tile path.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use catalog::{CatalogError, Layer};
use sqlx::PgPool;

/// Layer name -> version: what a database holds or a server announces.
pub type Versions = std::collections::BTreeMap<String, i64>;

/// Layer name -> published layer.
#[derive(Default)]
pub struct Registry {
    layers: RwLock<HashMap<String, Arc<Layer>>>,
}

impl Registry {
    /// Loads every layer.
    pub async fn load(pool: &PgPool) -> Result<Registry, CatalogError> {
        let r = Registry::default();
        r.reload(pool).await?;
        Ok(r)
    }

    /// Replaces the whole set from the catalog; returns the names whose version changed.
    pub async fn reload(&self, pool: &PgPool) -> Result<Vec<String>, CatalogError> {
        Ok(self.install(catalog::list_layers(pool).await?))
    }

    /// Replaces the whole set; returns the names whose version changed
    /// (including layers added or gone).
    pub fn install(&self, layers: Vec<Layer>) -> Vec<String> {
        let fresh: HashMap<String, Arc<Layer>> = layers
            .into_iter()
            .map(|l| (l.name.clone(), Arc::new(l)))
            .collect();
        let mut map = self.layers.write().expect("registry lock");
        let mut changed: Vec<String> = map
            .iter()
            .filter(|(n, l)| fresh.get(*n).is_none_or(|f| f.version != l.version))
            .map(|(n, _)| n.clone())
            .collect();
        changed.extend(fresh.keys().filter(|n| !map.contains_key(*n)).cloned());
        *map = fresh;
        changed
    }

    /// Layer name -> announced version.
    pub fn versions(&self) -> Versions {
        self.layers
            .read()
            .expect("registry lock")
            .iter()
            .map(|(n, l)| (n.clone(), l.version))
            .collect()
    }

    /// One layer.
    pub fn get(&self, name: &str) -> Option<Arc<Layer>> {
        self.layers
            .read()
            .expect("registry lock")
            .get(name)
            .cloned()
    }

    /// Every layer, by name.
    pub fn all(&self) -> Vec<Arc<Layer>> {
        let mut v: Vec<_> = self
            .layers
            .read()
            .expect("registry lock")
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}
