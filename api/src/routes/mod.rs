//! Route handlers, one file per resource.

pub mod catalog;
pub mod health;
pub mod ogc;
pub mod tiles;
pub mod web;
pub mod land;
