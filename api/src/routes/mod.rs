//! Route handlers, one file per resource.

pub mod admin;
pub mod catalog;
pub mod health;
pub mod land;
pub mod land_area;
pub mod logistics;
pub mod ogc;
pub mod reports;
pub mod tiles;
pub mod units;
pub mod web;
