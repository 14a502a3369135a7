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
mod grid;
mod pbf;
mod wkb;

use foldhash::HashMap;

pub use geometry::{GeomEncoder, TileFrame};

/// One attribute value. Text is UTF-8 as PostgreSQL sends it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Text(&'a [u8]),
    Int(i64),
    Double(f64),
    Bool(bool),
}

/// Builds one layer of a tile, feature by feature. Keys are the layer's
/// columns, given once; values are de-duplicated by type and content.
pub struct LayerEncoder {
    name: String,
    frame: TileFrame,
    keys: Vec<String>,
    values: Vec<u8>,
    texts: HashMap<Box<[u8]>, u32>,
    ints: HashMap<i64, u32>,
    doubles: HashMap<u64, u32>,
    bools: [Option<u32>; 2],
    value_count: u32,
    features: Vec<u8>,
    count: i64,
    geom: GeomEncoder,
    tags: Vec<u32>,
}

impl LayerEncoder {
    pub fn new(name: &str, frame: TileFrame, keys: &[&str]) -> LayerEncoder {
        LayerEncoder {
            name: name.to_string(),
            frame,
            keys: keys.iter().map(|k| k.to_string()).collect(),
            values: Vec::new(),
            texts: HashMap::default(),
            ints: HashMap::default(),
            doubles: HashMap::default(),
            bools: [None; 2],
            value_count: 0,
            features: Vec::new(),
            count: 0,
            geom: GeomEncoder::default(),
            tags: Vec::new(),
        }
    }

    /// Sets attribute `key` (an index into the keys given to [`new`]) of
    /// the feature being built; the next [`add`] takes it. NULL attributes
    /// are simply not set, as `ST_AsMVT` leaves them out.
    ///
    /// [`new`]: LayerEncoder::new
    /// [`add`]: LayerEncoder::add
    pub fn set(&mut self, key: usize, v: Value<'_>) {
        let i = self.value(&v);
        self.tags.push(key as u32);
        self.tags.push(i);
    }

    /// Adds a feature with the attributes [`set`] since the last call;
    /// false (and nothing added) when its geometry is not readable WKB or
    /// leaves nothing inside the buffered tile.
    ///
    /// [`set`]: LayerEncoder::set
    pub fn add(&mut self, id: Option<u64>, wkb: &[u8]) -> bool {
        let tags = std::mem::take(&mut self.tags);
        let added = self.write_feature(id, wkb, &tags);
        self.tags = tags;
        self.tags.clear();
        added
    }

    fn write_feature(&mut self, id: Option<u64>, wkb: &[u8], tags: &[u32]) -> bool {
        let Some((kind, cmds)) = self.geom.encode(wkb, &self.frame) else {
            return false;
        };
        let f = &mut self.features;
        let len = id.map_or(0, |id| 1 + pbf::varint_len(id))
            + pbf::packed_len(tags)
            + 1
            + pbf::varint_len(u64::from(kind))
            + pbf::packed_len(cmds);
        pbf::key(f, 2, pbf::LEN);
        pbf::varint(f, len as u64);
        if let Some(id) = id {
            pbf::varint_field(f, 1, id);
        }
        pbf::packed_field(f, 2, tags);
        pbf::varint_field(f, 3, u64::from(kind));
        pbf::packed_field(f, 4, cmds);
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

    /// The index of `v` in the layer's values, added when new.
    fn value(&mut self, v: &Value<'_>) -> u32 {
        let next = self.value_count;
        let i = match *v {
            Value::Text(s) => match self.texts.get(s) {
                Some(i) => *i,
                None => *self.texts.entry(s.into()).or_insert(next),
            },
            Value::Int(n) => *self.ints.entry(n).or_insert(next),
            Value::Double(d) => *self.doubles.entry(d.to_bits()).or_insert(next),
            Value::Bool(b) => *self.bools[usize::from(b)].get_or_insert(next),
        };
        if i != next {
            return i;
        }
        // A Value message: string 1, double 3, uint 5, sint 6, bool 7.
        let out = &mut self.values;
        match *v {
            Value::Text(s) => {
                pbf::key(out, 4, pbf::LEN);
                pbf::varint(out, (1 + pbf::varint_len(s.len() as u64) + s.len()) as u64);
                pbf::bytes_field(out, 1, s);
            }
            Value::Double(d) => {
                pbf::key(out, 4, pbf::LEN);
                pbf::varint(out, 9);
                pbf::key(out, 3, pbf::FIXED64);
                out.extend_from_slice(&d.to_le_bytes());
            }
            Value::Int(n) => {
                let (field, raw) = if n >= 0 {
                    (5, n as u64)
                } else {
                    (6, pbf::zigzag64(n))
                };
                pbf::key(out, 4, pbf::LEN);
                pbf::varint(out, (1 + pbf::varint_len(raw)) as u64);
                pbf::varint_field(out, field, raw);
            }
            Value::Bool(b) => {
                pbf::key(out, 4, pbf::LEN);
                pbf::varint(out, 2);
                pbf::varint_field(out, 7, u64::from(b));
            }
        }
        self.value_count += 1;
        next
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
