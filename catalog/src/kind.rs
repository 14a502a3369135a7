//! Layer kinds: what a layer holds decides its default title and zoom range,
//! and which server memory (road graph, parcel and warehouse indexes) it
//! gets. Personal data is not a matter of kind: see [`crate::personal`].

use std::fmt;

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The kinds of layer the base map knows; serialised by [`LayerKind::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    Parcels,
    Planning,
    LandFund,
    Roads,
    Bridges,
    Warehouses,
    Ports,
    Admin,
    Generic,
    /// Citizen field reports, written by the API.
    Reports,
}

impl LayerKind {
    pub const ALL: [LayerKind; 10] = [
        LayerKind::Parcels,
        LayerKind::Planning,
        LayerKind::LandFund,
        LayerKind::Roads,
        LayerKind::Bridges,
        LayerKind::Warehouses,
        LayerKind::Ports,
        LayerKind::Admin,
        LayerKind::Generic,
        LayerKind::Reports,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Parcels => "parcels",
            LayerKind::Planning => "planning",
            LayerKind::LandFund => "land_fund",
            LayerKind::Roads => "roads",
            LayerKind::Bridges => "bridges",
            LayerKind::Warehouses => "warehouses",
            LayerKind::Ports => "ports",
            LayerKind::Admin => "admin",
            LayerKind::Generic => "generic",
            LayerKind::Reports => "reports",
        }
    }

    /// Default human title (Vietnamese, as agencies name these maps).
    pub fn default_title(self) -> &'static str {
        match self {
            LayerKind::Parcels => "Thửa đất",
            LayerKind::Planning => "Quy hoạch sử dụng đất",
            LayerKind::LandFund => "Quỹ đất",
            LayerKind::Roads => "Đường bộ",
            LayerKind::Bridges => "Cầu",
            LayerKind::Warehouses => "Kho bãi",
            LayerKind::Ports => "Cảng, bến thủy nội địa",
            LayerKind::Admin => "Ranh giới hành chính",
            LayerKind::Generic => "Lớp dữ liệu",
            LayerKind::Reports => "Phản ánh hiện trường",
        }
    }

    /// Default (minzoom, maxzoom) at which tiles of the layer are served.
    pub fn zoom_range(self) -> (i32, i32) {
        match self {
            LayerKind::Parcels => (12, 22),
            LayerKind::Planning | LayerKind::LandFund => (10, 22),
            LayerKind::Roads => (6, 22),
            LayerKind::Bridges | LayerKind::Warehouses | LayerKind::Ports => (8, 22),
            LayerKind::Admin => (4, 22),
            LayerKind::Generic | LayerKind::Reports => (0, 22),
        }
    }

    /// Layers of this kind are written in place by the API (field reports),
    /// never replaced or rolled back by an import.
    pub fn api_managed(self) -> bool {
        self == LayerKind::Reports
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LayerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LayerKind::ALL
            .into_iter()
            .find(|k| k.name() == s || (s == "land-fund" && *k == LayerKind::LandFund))
            .ok_or_else(|| {
                let names: Vec<_> = LayerKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown kind '{s}': use one of {}", names.join(", "))
            })
    }
}
