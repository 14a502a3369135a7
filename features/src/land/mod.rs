//! Land officers' queries: a parcel by commune, sheet and number or at a
//! point (with the in-memory parcel boxes), the planning report of a
//! parcel, land-use statistics and parcels near a feature, all with legal
//! areas in the layer's native projection; look-ups that arrive together
//! share one statement.

pub(crate) mod lookups;
pub(crate) mod parcel;
pub(crate) mod parcel_index;
pub(crate) mod stats;
