//! Layer kinds: what a layer holds decides its default title, zoom range and
//! which fields are restricted (personal data) unless a manifest says otherwise.

use std::fmt;
use std::str::FromStr;

/// The kinds of layer the base map knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl LayerKind {
    pub const ALL: [LayerKind; 9] = [
        LayerKind::Parcels,
        LayerKind::Planning,
        LayerKind::LandFund,
        LayerKind::Roads,
        LayerKind::Bridges,
        LayerKind::Warehouses,
        LayerKind::Ports,
        LayerKind::Admin,
        LayerKind::Generic,
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
            LayerKind::Generic => (0, 22),
        }
    }

    /// Whether a column of this kind holds personal data, restricted unless
    /// a manifest publishes it explicitly. Agencies spell these fields many
    /// ways (`TEN_CHU`, `TENCHU`, `CHUSUDUNG1`, `HO_TEN`, `SOGCN` ...): the
    /// column name is compared without `_` and trailing digits.
    ///
    /// ```
    /// use importer::kind::LayerKind::{Parcels, Roads};
    /// assert!(Parcels.is_personal("ten_chu") && Parcels.is_personal("tenchu2"));
    /// assert!(Parcels.is_personal("so_giay_cn") && Parcels.is_personal("cccd"));
    /// assert!(!Parcels.is_personal("so_thua") && !Roads.is_personal("ten_chu"));
    /// ```
    pub fn is_personal(self, column: &str) -> bool {
        let compact: String = column.chars().filter(|c| *c != '_').collect();
        let stem = compact.trim_end_matches(|c: char| c.is_ascii_digit());
        self.personal_fields().contains(&stem)
    }

    /// Personal-data field names of this kind, without `_` (see [`Self::is_personal`]).
    pub fn personal_fields(self) -> &'static [&'static str] {
        match self {
            LayerKind::Parcels => &[
                // The holder: name, birth, identity papers, contact.
                "tenchu",
                "chusudung",
                "tenchusudung",
                "tenchusd",
                "chusd",
                "nguoisudung",
                "tennguoisudung",
                "hoten",
                "hotenchu",
                "diachichu",
                "diachithuongtru",
                "ngaysinh",
                "namsinh",
                "cmnd",
                "socmnd",
                "cmt",
                "cccd",
                "socccd",
                "sodienthoai",
                "dienthoai",
                "sdt",
                // The certificate and what burdens the land.
                "sogcn",
                "magcn",
                "sogiaycn",
                "sogiaychungnhan",
                "soseri",
                "sovaoso",
                "thechap",
                "tranhchap",
            ],
            LayerKind::Warehouses => &["masothuecanhan", "mstcanhan"],
            _ => &[],
        }
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
