//! Mapbox Vector Tile encoding in Rust, from rows PostgreSQL sends as WKB
//! plus attributes: the work `ST_AsMVTGeom` + `ST_AsMVT` do in the
//! database, done where it is cheaper (measured in docs/benchmarks.md:
//! reading the rows is ~1/4 of the database's full MVT query at z15-z18).
//! Values are typed as `ST_AsMVT` types them: integers as `uint` (or
//! `sint` when negative), doubles as `double`, booleans as `bool`, text and
//! dates (ISO `YYYY-MM-DD`) as `string`.
//!
//! MVT 2.1 fields: Tile.layers = 3; Layer: name 1, features 2, keys 3,
//! values 4, extent 5, version 15; Feature: id 1, tags 2, type 3,
//! geometry 4; Value: string 1, double 3, uint 5, sint 6, bool 7.

mod geometry;
mod pbf;

use std::collections::HashMap;

pub use geometry::{commands, read_wkb, Geom, TileFrame};

/// One attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Double(f64),
    Bool(bool),
}

/// Value identity for de-duplication (doubles by their bits).
#[derive(Hash, PartialEq, Eq)]
enum ValueKey {
    Text(String),
    Int(i64),
    Double(u64),
    Bool(bool),
}

/// Builds one layer of a tile, feature by feature.
pub struct LayerEncoder {
    name: String,
    frame: TileFrame,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
    values: Vec<u8>,
    value_index: HashMap<ValueKey, u32>,
    value_count: u32,
    features: Vec<u8>,
    count: i64,
}

impl LayerEncoder {
    pub fn new(name: &str, frame: TileFrame) -> LayerEncoder {
        LayerEncoder {
            name: name.to_string(),
            frame,
            keys: Vec::new(),
            key_index: HashMap::new(),
            values: Vec::new(),
            value_index: HashMap::new(),
            value_count: 0,
            features: Vec::new(),
            count: 0,
        }
    }

    /// Adds a feature; false (and nothing added) when its geometry is not
    /// readable WKB or leaves nothing inside the buffered tile. NULL
    /// attributes are left out, as `ST_AsMVT` does.
    pub fn add(&mut self, id: Option<u64>, wkb: &[u8], props: &[(&str, Option<Value>)]) -> bool {
        let Some((kind, cmds)) = read_wkb(wkb).and_then(|g| commands(&g, &self.frame)) else {
            return false;
        };
        let mut tags = Vec::with_capacity(props.len() * 2);
        for (k, v) in props {
            let Some(v) = v else { continue };
            tags.push(self.key(k));
            tags.push(self.value(v));
        }
        let mut f = Vec::with_capacity(cmds.len() * 2 + tags.len() + 8);
        if let Some(id) = id {
            pbf::varint_field(&mut f, 1, id);
        }
        pbf::packed_field(&mut f, 2, &tags);
        pbf::varint_field(&mut f, 3, u64::from(kind));
        pbf::packed_field(&mut f, 4, &cmds);
        pbf::bytes_field(&mut self.features, 2, &f);
        self.count += 1;
        true
    }

    /// Features added so far.
    pub fn len(&self) -> i64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of the features so far (the tile is a little larger).
    pub fn size(&self) -> usize {
        self.features.len() + self.values.len()
    }

    fn key(&mut self, k: &str) -> u32 {
        if let Some(i) = self.key_index.get(k) {
            return *i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k.to_string());
        self.key_index.insert(k.to_string(), i);
        i
    }

    fn value(&mut self, v: &Value) -> u32 {
        let key = match v {
            Value::Text(s) => ValueKey::Text(s.clone()),
            Value::Int(i) => ValueKey::Int(*i),
            Value::Double(d) => ValueKey::Double(d.to_bits()),
            Value::Bool(b) => ValueKey::Bool(*b),
        };
        if let Some(i) = self.value_index.get(&key) {
            return *i;
        }
        let mut m = Vec::new();
        match v {
            Value::Text(s) => pbf::bytes_field(&mut m, 1, s.as_bytes()),
            Value::Double(d) => {
                pbf::key(&mut m, 3, pbf::FIXED64);
                m.extend_from_slice(&d.to_le_bytes());
            }
            Value::Int(i) if *i >= 0 => pbf::varint_field(&mut m, 5, *i as u64),
            Value::Int(i) => pbf::varint_field(&mut m, 6, pbf::zigzag64(*i)),
            Value::Bool(b) => pbf::varint_field(&mut m, 7, u64::from(*b)),
        }
        pbf::bytes_field(&mut self.values, 4, &m);
        let i = self.value_count;
        self.value_count += 1;
        self.value_index.insert(key, i);
        i
    }

    /// The layer as a Tile message (empty when no feature was added):
    /// tiles concatenate into composites.
    pub fn finish(self) -> Vec<u8> {
        if self.count == 0 {
            return Vec::new();
        }
        let mut layer = Vec::with_capacity(self.features.len() + self.values.len() + 64);
        pbf::varint_field(&mut layer, 15, 2);
        pbf::bytes_field(&mut layer, 1, self.name.as_bytes());
        layer.extend_from_slice(&self.features);
        for k in &self.keys {
            pbf::bytes_field(&mut layer, 3, k.as_bytes());
        }
        layer.extend_from_slice(&self.values);
        pbf::varint_field(&mut layer, 5, u64::from(self.frame.extent));
        let mut tile = Vec::with_capacity(layer.len() + 8);
        pbf::bytes_field(&mut tile, 3, &layer);
        tile
    }
}
