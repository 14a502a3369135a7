//! OGC API - Features (Part 1 Core, Part 2 CRS by reference, Part 3
//! filtering): which CRSs a layer offers and how their URIs map to SRIDs
//! and axis orders, the SQL of items and of one item, the JSON of
//! collections and queryables.

pub(crate) mod collection;
pub(crate) mod crs;
pub(crate) mod items;
