//! Route handlers, one file per resource.

pub mod catalog;
pub mod health;
pub mod land;
pub mod ogc;
pub mod tiles;
pub mod web;
pub mod logistics;
pub mod reports;
